"""API fields that show a resident's ID number and birth date through the disclosure rule
(``core.disclosure``): every serializer exposing either uses these."""

from rest_framework import serializers

from .. import disclosure


def _viewer(field):
    request = field.context.get("request")
    return getattr(request, "user", None)


class DisclosedIdField(serializers.CharField):
    """An ID number as the requesting user may see it: full where ``full_ids`` (a capability, or
    None for masked to everyone) allows, masked otherwise; written as sent (a full number)."""

    def __init__(self, *, full_ids: str | None = disclosure.ID_FULL, **kwargs):
        self.full_ids = full_ids
        kwargs.setdefault("help_text", "完整号码仅对有权查看的角色显示，其余脱敏（如 411325********6860）")
        super().__init__(**kwargs)

    def to_representation(self, value):
        return disclosure.for_viewer(_viewer(self), full_ids=self.full_ids).id_number(value)


class DisclosedBirthDateField(serializers.DateField):
    """The birth date for roles that may see full ID numbers; null for everyone else (who get
    ``birth_year``): with the masked number it would rebuild the full one."""

    def __init__(self, **kwargs):
        kwargs.setdefault("read_only", True)
        kwargs.setdefault("allow_null", True)
        kwargs.setdefault("help_text", "仅对可查看完整身份证号码的角色显示，其余为空（见 birth_year）")
        super().__init__(**kwargs)

    def to_representation(self, value):
        shown = disclosure.for_viewer(_viewer(self)).birth_date(value)
        return None if shown is None else super().to_representation(shown)


class BirthYearField(serializers.IntegerField):
    """The birth year, shown to everyone who may see the person."""

    def __init__(self, **kwargs):
        kwargs.setdefault("read_only", True)
        kwargs.setdefault("allow_null", True)
        super().__init__(**kwargs)

    def to_representation(self, value):
        return disclosure.birth_year(value)
