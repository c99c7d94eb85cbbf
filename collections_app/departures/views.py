"""The upload page of a department's departures list; the run page is the import flow's."""

from django.shortcuts import render

from core.access import needs
from core.imports import flow
from core.imports import views as import_views
from core.spreadsheets import UploadError
from enrollment.years import year_for
from subsidies.models import PolicyYear

from .forms import DepartureImportForm
from .importer import DEPARTURES

ERR_NO_VIEW = "您的角色不能导入部门名单。"


@needs(*DEPARTURES.capabilities, message=ERR_NO_VIEW)
def departure_import(request):
    user = request.user
    current = year_for(request)
    years = sorted({*PolicyYear.objects.visible_to(user).values_list("year", flat=True), current, current + 1}, reverse=True)
    form = DepartureImportForm(request.POST or None, request.FILES or None, years=years, initial={"year": current})
    if request.method == "POST" and form.is_valid():
        upload = form.cleaned_data["file"]
        data = {**form.cleaned_data, "file_name": upload.name}
        try:
            region, year, options = DEPARTURES.target(user, data)
            run = flow.import_upload(actor=user, kind=DEPARTURES.kind, region=region, year=year, upload=upload, options=options)
        except UploadError as exc:
            form.add_error("file", exc.message)
        except ValueError as exc:  # TargetError: no county
            form.add_error(None, str(exc))
        else:
            return import_views.start(request, run)
    return render(request, "collections/departure_import.html", {"form": form})
