"""API permissions shared by every app.

``ReadOnlyRolesPermission`` is in REST_FRAMEWORK's DEFAULT_PERMISSION_CLASSES: leadership may
only read, and department staff may only read except on the views that receive their lists
(those set ``department_may_write = True``). A view whose POST changes nothing (a calculator)
sets ``read_only_roles_may_post = True``. Views that declare their own ``permission_classes``
should include it too; tests/integration/test_security_readonly.py walks every API route with
unsafe methods as those roles and fails if any of them changes a row.
"""

from rest_framework.permissions import SAFE_METHODS, BasePermission

from .choices import Role

ERR_READ_ONLY_ROLE = "您的账户为只读角色，不能修改数据。"
ERR_DEPARTMENT_READ_ONLY = "部门账户只能导入本部门的认定名单，不能修改其他数据。"


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
        if user.role == Role.LEADERSHIP:
            return False
        if user.role == Role.DEPARTMENT:
            if getattr(view, "department_may_write", False):
                return True
            self.message = ERR_DEPARTMENT_READ_ONLY
            return False
        return True


def is_read_only_for(user, *, department_may_write: bool = False) -> bool:
    """The same rule for HTML views: True when ``user`` may not change data here."""
    if not user.is_authenticated:
        return True
    if user.role == Role.LEADERSHIP:
        return True
    return user.role == Role.DEPARTMENT and not department_may_write
