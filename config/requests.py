"""Requests no view should see, and how a refused request is answered.

``RejectControlCharactersMiddleware`` refuses, before any view runs, a request whose path, query
parameters or form fields (names or values) hold a NUL or another control character: no field of
the portal may hold one (PostgreSQL cannot even store a NUL in text), so a view never has to ask.
Tab, line feed and carriage return stay allowed in values (a pasted address, a textarea).

``bad_request`` is the project's handler400: every 400 — this middleware's, a view's
``core.params.InvalidParameter``, Django's own refusals — answers a Chinese sentence, as ``{"detail": ...}`` under
/api/ and as a page in the site's layout elsewhere.
"""

from __future__ import annotations

import re

from django.http import HttpRequest, HttpResponse, JsonResponse, QueryDict
from django.shortcuts import render

from core.params import InvalidParameter

ERR_CONTROL_CHARACTERS = "请求中含有不允许的控制字符（如 NUL 空字符），请删除这些字符后重新提交。"
ERR_BAD_REQUEST = "请求的参数不正确，请返回上一页检查后重新提交。"

CONTROL_CHARACTERS = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
FORM_TYPES = ("application/x-www-form-urlencoded", "multipart/form-data")


def has_control_characters(text: str) -> bool:
    return CONTROL_CHARACTERS.search(text) is not None


def _dict_holds_control_characters(data: QueryDict) -> bool:
    return any(has_control_characters(key) or any(has_control_characters(v) for v in values) for key, values in data.lists())


def holds_control_characters(request: HttpRequest) -> bool:
    """Whether the path, a query parameter or a form field (name or value) holds a control character."""
    if has_control_characters(request.path_info) or _dict_holds_control_characters(request.GET):
        return True
    if request.content_type not in FORM_TYPES:
        return False  # JSON bodies: DRF's fields refuse a NUL themselves
    if request.method == "POST":
        return _dict_holds_control_characters(request.POST) or any(has_control_characters(k) for k in request.FILES)
    if request.content_type == FORM_TYPES[0]:  # PUT/PATCH forms, which Django leaves to DRF
        return _dict_holds_control_characters(QueryDict(request.body, encoding=request.encoding))
    return False


def bad_request_response(request: HttpRequest, message: str) -> HttpResponse:
    if request.path_info.startswith("/api/"):
        return JsonResponse({"detail": message}, status=400, json_dumps_params={"ensure_ascii": False})
    return render(request, "400.html", {"message": message}, status=400)


def bad_request(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    """handler400. ``InvalidParameter`` carries the sentence to show; Django's own refusals (too
    many fields, a body too large, a form body not in UTF-8…) get the general one."""
    message = str(exception) if isinstance(exception, InvalidParameter) else ERR_BAD_REQUEST
    return bad_request_response(request, message)


class RejectControlCharactersMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if holds_control_characters(request):
            return bad_request_response(request, ERR_CONTROL_CHARACTERS)
        return self.get_response(request)
