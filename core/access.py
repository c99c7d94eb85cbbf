"""Who may do what, for pages and the API alike: one capability check and one read-only rule.

A capability (``User.can``, from ``CAPABILITIES``) opens a page or an API action; a view that
several roles reach for different reasons names several, any of which is enough:

* pages: ``@needs("roster.view")`` (login, then 403 with a Chinese message), or ``require(user,
  …)`` inside a view whose check depends on the object;
* the API: ``permission_classes = [Capabilities]`` with ``capabilities = {"read": …, "write": …}``
  on the view (keys: the viewset action, then "read"/"write" by the method, then "*").

``ReadOnlyRolesPermission`` is in REST_FRAMEWORK's DEFAULT_PERMISSION_CLASSES: leadership may
only read, and department staff may only read except on the views that receive their lists
(those set ``department_may_write = True``). A view whose POST changes nothing (a calculator)
sets ``read_only_roles_may_post = True``. Views that declare their own ``permission_classes``
include it too; tests/integration/test_security_readonly.py walks every API route with unsafe
methods as those roles and fails if any of them changes a row. Pages need no such class: the
read-only roles hold no capability that writes.
"""

from functools import wraps

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from rest_framework.permissions import SAFE_METHODS, BasePermission

from .choices import Role

ERR_NO_CAPABILITY = "您的角色没有这项权限。"
ERR_READ_ONLY_ROLE = "您的账户为只读角色，不能修改数据。"
ERR_DEPARTMENT_READ_ONLY = "部门账户只能导入本部门的认定名单，不能修改其他数据。"


def allowed(user, *capabilities: str) -> bool:
    """True when ``user`` is signed in and holds any of ``capabilities``."""
    return bool(user and user.is_authenticated and any(user.can(c) for c in capabilities))


def require(user, *capabilities: str, message: str = ERR_NO_CAPABILITY) -> None:
    if not allowed(user, *capabilities):
        raise PermissionDenied(message)


def needs(*capabilities: str, message: str = ERR_NO_CAPABILITY):
    """Page decorator: login_required, then any of ``capabilities`` (403 without one)."""

    def deco(view):
        @login_required
        @wraps(view)
        def wrapper(request, *args, **kwargs):
            require(request.user, *capabilities, message=message)
            return view(request, *args, **kwargs)

        return wrapper

    return deco


class Capabilities(BasePermission):
    """The API side of ``needs``: ``view.capabilities`` maps an action to what it needs."""

    message = ERR_NO_CAPABILITY

    def has_permission(self, request, view):
        caps = getattr(view, "capabilities", {})
        kind = "read" if request.method in SAFE_METHODS else "write"
        need = caps.get(getattr(view, "action", None), caps.get(kind, caps.get("*")))
        if need is None:
            return bool(request.user and request.user.is_authenticated)
        return allowed(request.user, *((need,) if isinstance(need, str) else need))


class ReadOnlyRolesPermission(BasePermission):
    message = ERR_READ_ONLY_ROLE

    def has_permission(self, request, view):
        if request.method in SAFE_METHODS:
            return True
        user = getattr(request, "user", None)
        if user is None or not user.is_authenticated:
            return True  # authentication is IsAuthenticated's job, not this class's
        if getattr(view, "read_only_roles_may_post", False):
            return True
        if user.may_write(department_list=getattr(view, "department_may_write", False)):
            return True
        if user.role == Role.DEPARTMENT:
            self.message = ERR_DEPARTMENT_READ_ONLY
        return False
