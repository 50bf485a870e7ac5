"""OpenAPI: every operation documents the shared error body for the errors it can answer."""

from drf_spectacular.openapi import AutoSchema

from portal.api.errors import ErrorSerializer

COMMON_ERRORS = [400, 401, 403, 404, 405, 406, 415, 429]
WRITE_ERRORS = [402, 409]


class PartnerAutoSchema(AutoSchema):
    def _get_response_bodies(self, direction="response"):
        responses = super()._get_response_bodies(direction)
        codes = COMMON_ERRORS + (WRITE_ERRORS if self.method == "POST" else [])
        for code in codes:
            responses.setdefault(str(code), self._get_response_for_code(ErrorSerializer, str(code)))
        return responses
