"""accounts/tokens/: each user creates, replaces or revokes their own API token.

The key is shown once, in the response to the request that created it (never stored in a
message or cookie). Creating and revoking are recorded in the audit log.
"""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect, render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods
from rest_framework.authtoken.models import Token

from core.tokens import ACTION_TOKEN_CREATE, ACTION_TOKEN_REVOKE, REASON_BY_OWNER, masked, token_create, tokens_revoke

__all__ = ["ACTION_TOKEN_CREATE", "ACTION_TOKEN_REVOKE", "api_tokens"]
MSG_TOKEN_CREATED = "已生成新的 API 令牌。请立即复制保存，离开本页后将不再显示完整令牌；旧令牌（如有）已失效。"
MSG_TOKEN_REVOKED = "API 令牌已注销，使用它的程序将无法再访问。"
MSG_NO_TOKEN = "您当前没有 API 令牌。"


@never_cache
@login_required
@require_http_methods(["GET", "POST"])
def api_tokens(request):
    token = Token.objects.filter(user=request.user).first()
    new_key = None
    if request.method == "POST":
        action = request.POST.get("action")
        if action == "create":
            token = token_create(user=request.user)
            new_key = token.key
            messages.success(request, MSG_TOKEN_CREATED)
        elif action == "revoke":
            if token is None:
                messages.info(request, MSG_NO_TOKEN)
            else:
                tokens_revoke(user=request.user, actor=request.user, reason=REASON_BY_OWNER)
                messages.success(request, MSG_TOKEN_REVOKED)
            return redirect("api_tokens")
        else:
            return redirect("api_tokens")
    return render(
        request,
        "registration/tokens.html",
        {"token": token, "masked": masked(token.key) if token else "", "new_key": new_key},
    )
