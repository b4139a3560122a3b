"""A Litestar DTO that hands the raw request body to our own decoder.

Litestar's default path decodes JSON to Python builtins and then converts them into the handler's type
in lax mode (strings accepted as numbers, and so on). The gateway instead decodes bytes straight into
the generated Struct, strictly, with the hand-written step of `app.wire.decode` where the official
format needs one; that is also the faster path. The DTO keeps Litestar's OpenAPI view of the handler
exact: the request body is still documented as the generated Struct.
"""

from __future__ import annotations

from collections.abc import Callable, Generator
from typing import Any, ClassVar, Generic, TypeVar

import msgspec
from litestar.dto import AbstractDTO, DTOFieldDefinition
from litestar.typing import FieldDefinition

T = TypeVar("T")


class WireDTO(AbstractDTO[T], Generic[T]):
    """Decode the body with `decoder`; subclasses set it (see `wire_dto`)."""

    decoder: ClassVar[Callable[[bytes], Any]]

    @classmethod
    def generate_field_definitions(cls, model_type: type[Any]) -> Generator[DTOFieldDefinition, None, None]:
        yield from ()  # No field-level transfer model: the Struct itself is the wire format.

    @classmethod
    def detect_nested_field(cls, field_definition: FieldDefinition) -> bool:
        return False

    @classmethod
    def create_for_field_definition(cls, field_definition: FieldDefinition, handler_id: str, backend_cls=None) -> None:  # type: ignore[no-untyped-def]
        return None

    @classmethod
    def create_openapi_schema(cls, field_definition: FieldDefinition, handler_id: str, schema_creator: Any) -> Any:
        return schema_creator.for_field_definition(FieldDefinition.from_annotation(cls.model_type))

    def decode_bytes(self, value: bytes) -> Any:
        return type(self).decoder(value)

    def decode_builtins(self, value: dict[str, Any]) -> Any:
        return type(self).decoder(msgspec.json.encode(value))

    def data_to_encodable_type(self, data: Any) -> Any:
        return data


def wire_dto(model: type[T], decoder: Callable[[bytes], T]) -> type[WireDTO[T]]:
    """A DTO class for `model` whose bodies are decoded by `decoder`."""
    dto: type[WireDTO[T]] = WireDTO[model]  # type: ignore[valid-type]
    dto.decoder = staticmethod(decoder)  # type: ignore[assignment]
    return dto
