"""pydantic's own wording: a refusal that carries it was not written by AlertSync."""

__all__ = ["PYDANTIC_DETAILS", "PYDANTIC_WORDING"]

# pydantic's error phrases: no refusal of a spec may carry them, whatever the spec.
PYDANTIC_WORDING = (
    "Value error",
    "Input should",
    "String should",
    "Field required",
    "Extra inputs",
)
# More of pydantic's wording, checked where the spec is a fixed one: a drawn spec's own
# text, echoed in a refusal as it should be, could carry these.
PYDANTIC_DETAILS = ("should have at least", "validation error", "type=")
