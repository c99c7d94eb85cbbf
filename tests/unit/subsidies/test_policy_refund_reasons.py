"""A policy year's refund reasons (subsidies/models/policy.py): the plan's list or the national
set, and the check of the codes an office writes. No database."""

import pytest
from django.core.exceptions import ValidationError

from subsidies.choices import LEAVING_REASONS, RefundReason
from subsidies.models import PolicyYear
from subsidies.models.policy import (
    ERR_REFUND_REASONS_DIFFERENCE_OFF,
    ERR_REFUND_REASONS_DIFFERENCE_ON,
)

# Seed 004 (Gaoyang) l.22: "因死亡、服役、服刑以及重复缴费、参加职工医保或其他统筹地区居民医保，可……办理退费"
GAOYANG = ["death", "military", "prison", "duplicate", "employee", "elsewhere", "subsidy_difference"]


def test_blank_is_the_national_set_without_difference_where_none_is_refunded():
    # Seed 000 (Neixiang) l.69: "依据国家医保办函〔2021〕11号文件规定，……因死亡、重复缴费、参加职工医保或在其他统筹地区参加居民医保的，可……办理退费"
    policy = PolicyYear(refund_reasons=[], late_identity_refunds_difference=False)
    assert policy.refund_reason_codes() == ["death", "duplicate", "employee", "elsewhere"]


def test_blank_adds_the_difference_where_the_policy_refunds_it():
    policy = PolicyYear(refund_reasons=[], late_identity_refunds_difference=True)
    assert policy.refund_reason_codes() == ["death", "duplicate", "employee", "elsewhere", "subsidy_difference"]


def test_a_plans_list_is_the_years_reasons_with_their_labels():
    policy = PolicyYear(refund_reasons=list(reversed(GAOYANG)), late_identity_refunds_difference=True)
    assert policy.refund_reason_codes() == GAOYANG
    assert dict(policy.refund_reason_choices())["military"] == "服役"
    assert dict(policy.refund_reason_choices())["prison"] == "服刑"


def test_military_and_prison_take_the_person_out():
    assert {RefundReason.MILITARY, RefundReason.PRISON} <= set(LEAVING_REASONS)
    assert RefundReason.SUBSIDY_DIFFERENCE not in LEAVING_REASONS and RefundReason.DUPLICATE not in LEAVING_REASONS


@pytest.mark.parametrize("reasons", [["death", "army"], "death", [1]])
def test_an_unknown_code_is_refused_in_chinese(reasons):
    policy = PolicyYear(refund_reasons=reasons, late_identity_refunds_difference=False)
    with pytest.raises(ValidationError) as exc:
        policy._clean_refund_reasons()
    message = exc.value.message_dict["refund_reasons"][0]
    assert message.startswith("退费原因代码应为以下之一：") and "military（服役）" in message


def test_the_difference_in_the_list_agrees_with_the_policy():
    with pytest.raises(ValidationError) as exc:
        PolicyYear(refund_reasons=GAOYANG, late_identity_refunds_difference=False)._clean_refund_reasons()
    assert exc.value.message_dict["refund_reasons"] == [ERR_REFUND_REASONS_DIFFERENCE_OFF]
    with pytest.raises(ValidationError) as exc:
        PolicyYear(refund_reasons=GAOYANG[:-1], late_identity_refunds_difference=True)._clean_refund_reasons()
    assert exc.value.message_dict["refund_reasons"] == [ERR_REFUND_REASONS_DIFFERENCE_ON]
    PolicyYear(refund_reasons=GAOYANG, late_identity_refunds_difference=True)._clean_refund_reasons()


def test_a_cleared_box_is_the_national_set():
    policy = PolicyYear(refund_reasons=None, late_identity_refunds_difference=False)
    policy._clean_refund_reasons()
    assert policy.refund_reasons == [] and policy.refund_reason_codes() == ["death", "duplicate", "employee", "elsewhere"]
