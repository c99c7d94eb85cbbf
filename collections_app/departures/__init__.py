"""Lists other departments send of people who leave the resident scheme (deaths and 户口注销 from
civil affairs and the police, employee-insurance lists, schools' lists of students insured at
school, other areas' enrolment): each row takes the person out of the year's should-enrol base
and, where they had paid before cover began, proposes a refund for the bureau to decide."""
