"""Response headers Django has no setting for: Permissions-Policy."""

from django.conf import settings


class PermissionsPolicyMiddleware:
    """Refuse every page the browser features the portal never uses (camera, location…)."""

    def __init__(self, get_response):
        self.get_response = get_response
        self.policy = settings.PERMISSIONS_POLICY

    def __call__(self, request):
        response = self.get_response(request)
        if self.policy:
            response.headers.setdefault("Permissions-Policy", self.policy)
        return response
