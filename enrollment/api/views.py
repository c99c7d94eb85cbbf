"""/api/households/, /api/persons/, /api/enrollments/: the roster pages' rules, as JSON."""

from django.core.exceptions import ValidationError as DjangoValidationError
from django.db.models import Count
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_view
from rest_framework import mixins, permissions, status
from rest_framework.decorators import action
from rest_framework.exceptions import ValidationError
from rest_framework.response import Response

from core.access import ReadOnlyRolesPermission
from core.api.viewsets import ScopedViewSet
from core.params import parse_year
from subsidies.selectors import benefit_year

from .. import selectors, services
from ..filtersets import EnrollmentFilterSet, HouseholdFilterSet, IdentityFilterSet, PersonFilterSet
from ..models import Enrollment, Household, Person, PersonIdentity
from . import serializers as s

ROSTER = {"read": "roster.view", "write": "roster.edit"}
YEAR_PARAM = OpenApiParameter("year", OpenApiTypes.INT, description="待遇年度（默认：本县当前征缴的待遇年度）")


class YearMixin:
    def year(self) -> int:
        year = parse_year(self.request.query_params.get("year"))
        if year is not None:
            return year
        user = self.request.user
        return benefit_year(user.county if getattr(user, "region_id", None) else None)

    def get_serializer_context(self):
        ctx = super().get_serializer_context()
        ctx["year"] = self.year()
        return ctx


def _invalid(exc: services.RosterInvalid):
    return ValidationError(exc.as_dict())


@extend_schema_view(
    list=extend_schema(parameters=[YEAR_PARAM]),
    retrieve=extend_schema(parameters=[YEAR_PARAM]),
    create=extend_schema(parameters=[YEAR_PARAM]),
    update=extend_schema(parameters=[YEAR_PARAM]),
    partial_update=extend_schema(parameters=[YEAR_PARAM]),
)
class HouseholdViewSet(YearMixin, mixins.ListModelMixin, mixins.RetrieveModelMixin, mixins.CreateModelMixin,
                       mixins.UpdateModelMixin, ScopedViewSet):
    """Households with all their members. Create and update take the whole household at once
    (members with an ``id`` are edited, without one added, with ``delete: true`` removed);
    nothing is saved unless everything is valid."""

    permission_classes = [*ScopedViewSet.permission_classes, ReadOnlyRolesPermission]
    capabilities = ROSTER
    queryset = Household.objects.all()
    filterset_class = HouseholdFilterSet
    ordering_fields = ["number", "id"]

    def base_queryset(self):
        return (
            selectors.households_visible(self.request.user)
            .annotate(member_count=Count("members"))
            .order_by("village_id", "number")
        )

    def get_serializer_class(self):
        if self.action in ("notice", "transfer"):
            return self.serializer_class  # set by the @action
        if self.action in ("retrieve", "create", "update", "partial_update"):
            return s.HouseholdDetailSerializer
        return s.HouseholdSerializer

    def _save(self, serializer, household=None):
        data = serializer.validated_data
        members = serializer.member_inputs(household)
        if household is not None and "members" not in data:
            members = [services.member_input_of(p) for p in household.members.all()]
        elif household is not None:
            sent = {m.person.pk for m in members if m.person is not None}
            members += [services.member_input_of(p) for p in household.members.all() if p.pk not in sent]
        try:
            return services.household_save(
                actor=self.request.user, year=self.year(), household=household, members=members,
                village=data.get("village") or (household.village if household else None),
                number=data.get("number", household.number if household else ""),
                address=data.get("address", household.address if household else ""),
            )
        except services.RosterInvalid as exc:
            raise _invalid(exc) from None

    def create(self, request, *args, **kwargs):
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        household = self._save(serializer)
        household = self.get_queryset().get(pk=household.pk)
        return Response(self.get_serializer(household).data, status=status.HTTP_201_CREATED)

    def update(self, request, *args, **kwargs):
        household = self.get_object()
        serializer = self.get_serializer(household, data=request.data, partial=kwargs.get("partial", False))
        serializer.is_valid(raise_exception=True)
        self._save(serializer, household)
        return Response(self.get_serializer(self.get_queryset().get(pk=household.pk)).data)

    @extend_schema(parameters=[YEAR_PARAM])
    @action(detail=True, methods=["post"], serializer_class=s.NoticeSerializer)
    def notice(self, request, pk=None):
        """Record the year's notice receipt and pledge letter of the household."""
        household = self.get_object()
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        notice = services.notice_set(actor=request.user, household=household, year=self.year(), **serializer.validated_data)
        return Response(s.NoticeSerializer(notice).data)

    @action(detail=True, methods=["post"], serializer_class=s.TransferRequestSerializer)
    def transfer(self, request, pk=None):
        """Request that a resident registered elsewhere (by ID number) move into this household;
        the holding township decides."""
        household = self.get_object()
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        try:
            transfer = services.transfer_request(actor=request.user, to_household=household, **serializer.validated_data)
        except services.RosterInvalid as exc:
            raise _invalid(exc) from None
        return Response(s.TransferRequestSerializer(transfer).data, status=status.HTTP_201_CREATED)


@extend_schema_view(
    list=extend_schema(parameters=[YEAR_PARAM]),
    retrieve=extend_schema(parameters=[YEAR_PARAM]),
    partial_update=extend_schema(parameters=[YEAR_PARAM]),
)
class PersonViewSet(YearMixin, mixins.ListModelMixin, mixins.RetrieveModelMixin, mixins.UpdateModelMixin,
                    ScopedViewSet):
    """Persons (一人一档), ID numbers masked. Correct a person with PATCH (same rules as the form);
    persons are added through their household."""

    permission_classes = [*ScopedViewSet.permission_classes, ReadOnlyRolesPermission]
    capabilities = ROSTER
    serializer_class = s.PersonSerializer
    queryset = Person.objects.all()
    filterset_class = PersonFilterSet
    ordering_fields = ["name", "id"]
    http_method_names = ["get", "patch", "post", "head", "options"]

    def base_queryset(self):
        return selectors.persons_with_status(user=self.request.user, year=self.year()).order_by("household_id", "id")

    def update(self, request, *args, **kwargs):
        person = self.get_object()
        serializer = self.get_serializer(person, data=request.data, partial=True)
        serializer.is_valid(raise_exception=True)
        changes = dict(serializer.validated_data)
        try:
            services.person_update(actor=request.user, person=person, **changes)
        except services.RosterInvalid as exc:
            raise ValidationError(exc.members.get(0, exc.as_dict())) from None
        return Response(self.get_serializer(self.get_queryset().get(pk=person.pk)).data)

    @extend_schema(request=None, responses=s.RevealSerializer)
    @action(detail=True, methods=["post"], serializer_class=s.RevealSerializer)
    def reveal(self, request, pk=None):
        """The full ID number, for roles that need it. Every call is recorded in the audit log."""
        if not request.user.can("id.full"):
            return Response({"detail": "您的角色只能查看脱敏后的身份证号码。"}, status=status.HTTP_403_FORBIDDEN)
        person = self.get_object()
        return Response({"id_number": services.reveal_id(actor=request.user, person=person)})

    @extend_schema(request=s.GuardianSerializer, responses=s.PersonSerializer)
    @action(detail=True, methods=["post"], serializer_class=s.GuardianSerializer)
    def guardian(self, request, pk=None):
        """A newborn's one guardian it follows in its birth year (a grown-up of its household who
        paid that year); where the county says so, the choice is never changed."""
        person = self.get_object()
        serializer = s.GuardianSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        chosen = next((g for g in services.guardian_candidates(person) if g.pk == serializer.validated_data["guardian"]), None)
        if chosen is None:
            raise ValidationError({"guardian": [services.ERR_GUARDIAN_NOT_MEMBER]})
        try:
            services.guardian_choose(actor=request.user, newborn=person, guardian=chosen)
        except DjangoValidationError as exc:
            raise ValidationError(exc.message_dict) from None
        return Response(s.PersonSerializer(self.get_queryset().get(pk=person.pk), context=self.get_serializer_context()).data)

    def get_permissions(self):
        if getattr(self, "action", None) == "reveal":
            return [permissions.IsAuthenticated()]
        return super().get_permissions()


@extend_schema_view(
    list=extend_schema(parameters=[YEAR_PARAM]),
)
class EnrollmentViewSet(YearMixin, mixins.ListModelMixin, mixins.RetrieveModelMixin, mixins.CreateModelMixin,
                        mixins.UpdateModelMixin, ScopedViewSet):
    """Each person's enrollment per benefit year. POST/PATCH set ``participation`` (enrol or an
    exclusion reason); money statuses are changed only by collections and refunds."""

    permission_classes = [*ScopedViewSet.permission_classes, ReadOnlyRolesPermission]
    capabilities = ROSTER
    serializer_class = s.EnrollmentSerializer
    queryset = Enrollment.objects.all()
    filterset_class = EnrollmentFilterSet
    ordering_fields = ["year", "id"]
    http_method_names = ["get", "post", "patch", "head", "options"]

    def base_queryset(self):
        return Enrollment.objects.select_related("person").order_by("-year", "person_id")

    def _set(self, person, year, data):
        try:
            return services.enrollment_set(
                actor=self.request.user, person=person, year=year, participation=data["participation"],
                reason_note=data.get("reason_note", ""), tier=data.get("tier", 1),
            )
        except services.RosterInvalid as exc:
            raise ValidationError(exc.members.get(0, exc.as_dict())) from None

    def create(self, request, *args, **kwargs):
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        if not data.get("participation"):
            raise ValidationError({"participation": ["请选择参保或不参保原因。"]})
        enrollment = self._set(data["person"], data.get("year") or self.year(), data)
        return Response(self.get_serializer(enrollment).data, status=status.HTTP_201_CREATED)

    def update(self, request, *args, **kwargs):
        enrollment = self.get_object()
        serializer = self.get_serializer(enrollment, data=request.data, partial=True)
        serializer.is_valid(raise_exception=True)
        data = dict(serializer.validated_data)
        data.setdefault("participation", services.participation_of(enrollment))
        data.setdefault("tier", enrollment.tier)
        data.setdefault("reason_note", enrollment.reason_note)
        result = self._set(enrollment.person, enrollment.year, data)
        if result is None:
            return Response(status=status.HTTP_204_NO_CONTENT)
        return Response(self.get_serializer(result).data)

    @extend_schema(request=s.CarryOverSerializer, responses=s.CarryOverReportSerializer)
    @action(detail=False, methods=["post"], url_path="carry-over", serializer_class=s.CarryOverSerializer)
    def carry_over(self, request):
        """Carry a village's roster into a new benefit year (see the carry-over page)."""
        serializer = s.CarryOverSerializer(data=request.data, context=self.get_serializer_context())
        serializer.is_valid(raise_exception=True)
        d = serializer.validated_data
        from_year = d.get("from_year")
        if from_year is not None and from_year >= d["to_year"]:
            raise ValidationError({"from_year": ["原年度必须早于转入年度。"]})
        try:
            report = services.carry_over(actor=request.user, village=d["village"], to_year=d["to_year"], from_year=from_year)
        except services.RosterInvalid as exc:
            raise _invalid(exc) from None
        return Response(report.as_dict())


__all__ = ["EnrollmentViewSet", "HouseholdViewSet", "PersonViewSet"]


class PersonIdentityViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, ScopedViewSet):
    serializer_class = s.PersonIdentitySerializer
    capabilities = {"*": ("identity.import", "roster.view")}
    filterset_class = IdentityFilterSet
    ordering_fields = ["certified_on", "year"]

    queryset = PersonIdentity.objects.all()

    def base_queryset(self):
        return selectors.identities_visible_to(self.request.user)
