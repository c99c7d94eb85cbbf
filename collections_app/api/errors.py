"""What the parts' APIs share: the 400 body and the translation of a service's ValidationError into it."""

from typing import NoReturn

from django.core.exceptions import ValidationError as DjangoValidationError
from rest_framework import serializers
from rest_framework.exceptions import ValidationError


class ErrorSerializer(serializers.Serializer):
    detail = serializers.ListField(child=serializers.CharField())


def raise_validation_error(exc: DjangoValidationError) -> NoReturn:
    """Answer a service's ValidationError as a 400: per field when it has fields, else ``{"detail": [...]}``."""
    if hasattr(exc, "error_dict"):
        raise ValidationError(exc.message_dict)
    raise ValidationError({"detail": exc.messages})
