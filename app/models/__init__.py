"""Wire models: Structs generated from openapi.yaml (`generated`) and the one hand-written decode step."""
