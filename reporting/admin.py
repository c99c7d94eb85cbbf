"""Reporting records are kept as they were produced: read-only in the admin."""

from django.contrib import admin

from core.admin import ReadOnlyAdmin

from .models import CurrentFigures, ProgressSnapshot, Ranking, RankingEntry, Report, WeeklyNote


@admin.register(ProgressSnapshot)
class ProgressSnapshotAdmin(ReadOnlyAdmin):
    list_display = ("date", "region", "level", "year", "quota_base", "roster", "collected", "confirmed", "taken_at")
    list_filter = ("level", "year")


@admin.register(CurrentFigures)
class CurrentFiguresAdmin(ReadOnlyAdmin):
    list_display = ("region", "level", "year", "date", "quota_base", "roster", "collected", "confirmed", "taken_at")
    list_filter = ("level", "year")


@admin.register(Ranking)
class RankingAdmin(ReadOnlyAdmin):
    list_display = ("date", "county", "year", "kind", "created_at")
    list_filter = ("kind", "year")


@admin.register(RankingEntry)
class RankingEntryAdmin(ReadOnlyAdmin):
    list_display = ("ranking", "level", "group", "region", "rank", "rate", "in_bottom", "interview")
    list_filter = ("level", "in_bottom", "interview")


@admin.register(WeeklyNote)
class WeeklyNoteAdmin(ReadOnlyAdmin):
    list_display = ("date", "township", "author", "updated_at")


@admin.register(Report)
class ReportAdmin(ReadOnlyAdmin):
    list_display = ("date", "county", "kind", "title", "created_at")
    list_filter = ("kind", "year")
