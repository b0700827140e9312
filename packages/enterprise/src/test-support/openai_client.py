"""The official `openai` Python package against a live `aios serve` (for openai-clients.test.ts).

usage: python openai_client.py <base_url> <chat_key> <other_tenant_key>

Prints one JSON object: what each call returned, or the status, type, code and param of the
error it raised. The TypeScript test asserts on it.
"""

import json
import sys

import openai
from openai import OpenAI

base_url, key, other_key = sys.argv[1], sys.argv[2], sys.argv[3]
client = OpenAI(base_url=base_url, api_key=key, max_retries=0, timeout=60)
out = {}


def error_of(call):
    try:
        call()
    except openai.APIStatusError as error:
        return {
            "status": error.status_code,
            "type": error.type,
            "code": error.code,
            "param": error.param,
            "class": type(error).__name__,
        }
    return None


QUESTION = [{"role": "user", "content": "Where is the spare house key?"}]

plain = client.chat.completions.create(model="luna", messages=QUESTION)
out["plain"] = {
    "content": plain.choices[0].message.content,
    "finish_reason": plain.choices[0].finish_reason,
    "total_tokens": plain.usage.total_tokens,
    "sources": [s["id"] for s in plain.model_extra["aios"]["sources"]],
    "conversation_id": plain.model_extra["aios"]["conversation_id"],
}

chunks = list(
    client.chat.completions.create(
        model="luna",
        messages=QUESTION,
        stream=True,
        stream_options={"include_usage": True},
    )
)
out["stream"] = {
    "text": "".join(c.choices[0].delta.content or "" for c in chunks if c.choices),
    "finish_reasons": [c.choices[0].finish_reason for c in chunks if c.choices],
    "usage": chunks[-1].usage.total_tokens if chunks[-1].usage else None,
    "last_choices": len(chunks[-1].choices),
    "sources": [
        s["id"] for c in chunks if c.model_extra.get("aios") for s in c.model_extra["aios"]["sources"]
    ],
}

history = [
    {"role": "system", "content": "Answer in one sentence."},
    {"role": "user", "content": "I lost my keys again."},
    {"role": "assistant", "content": "Let us find the spare one."},
    {"role": "user", "content": "Where is the spare house key?"},
]
turns = client.chat.completions.create(model="luna", messages=history)
out["history"] = {"content": turns.choices[0].message.content}

out["errors"] = {
    "no_messages": error_of(lambda: client.chat.completions.create(model="luna", messages=[])),
    "bad_role": error_of(
        lambda: client.chat.completions.create(
            model="luna", messages=[{"role": "robot", "content": "hi"}]
        )
    ),
    "too_long": error_of(
        lambda: client.chat.completions.create(
            model="luna", messages=[{"role": "user", "content": "lorem ipsum " * 9000}]
        )
    ),
    "unknown_model": error_of(
        lambda: client.chat.completions.create(model="gpt-4o", messages=QUESTION)
    ),
    "bad_key": error_of(
        lambda: OpenAI(base_url=base_url, api_key="aios_sk_nope", max_retries=0)
        .chat.completions.create(model="luna", messages=QUESTION)
    ),
}

other = OpenAI(base_url=base_url, api_key=other_key, max_retries=0).chat.completions.create(
    model="luna", messages=QUESTION
)
out["other_tenant"] = {"sources": [s["id"] for s in other.model_extra["aios"]["sources"]]}

out["models"] = [m.id for m in client.models.list()]
embeddings = client.embeddings.create(model="carma", input=["one", "two"])
out["embeddings"] = [len(e.embedding) for e in embeddings.data]

print(json.dumps(out))
