"""``GET /v1/models`` and ``GET /v1/models/{model}``: the one model this gateway serves, its deployment.

Many OpenAI-compatible tools list models before anything else. The gateway answers every request with the
configured Azure deployment whatever ``model`` says, so that deployment is the list; asking for another name
is a 404 that says which name exists.
"""

from __future__ import annotations

import time

from litestar import Controller, get
from litestar.datastructures import State
from litestar.params import FromPath

from app.models import generated as m
from app.wire.errors import GatewayError

_STARTED = int(time.time())


def _model(state: State) -> m.Model:
    return m.Model(id=state.gateway.settings.openai_model, object="model", created=_STARTED, owned_by="azure")


class ModelsController(Controller):
    path = "/v1/models"
    tags = ["Models"]

    @get(operation_id="listModels", summary="List the models this gateway serves (the configured Azure deployment).")
    async def list_models(self, state: State) -> m.ListModelsResponse:
        return m.ListModelsResponse(object="list", data=[_model(state)])

    @get(
        "/{model:str}",
        operation_id="retrieveModel",
        summary="The configured deployment, by its name.",
    )
    async def retrieve_model(self, state: State, model: FromPath[str]) -> m.Model:
        served = _model(state)
        if model != served.id:
            raise GatewayError(
                404,
                f"The model '{model}' does not exist here: this gateway serves the Azure deployment "
                f"'{served.id}' (for requests naming any model).",
                param="model",
                code="model_not_found",
            )
        return served
