from django.db import models

from core.models import Region


def money(verbose_name, **kwargs):
    return models.DecimalField(verbose_name, max_digits=12, decimal_places=2, **kwargs)


class RegionScopedQuerySet(models.QuerySet):
    """Rows filed under a region of any level (a collector's village, a clerk's township):
    visible when that region lies inside the user's region."""

    def visible_to(self, user):
        return self.filter(region__in=Region.objects.visible_to(user))
