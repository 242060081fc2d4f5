"""A synthesis server with a web page: the audio streams back while the decoder is still making it.

    python3 serve.py --checkpoint outdir/checkpoint_1000 [--vocoder hifigan.pt] [--host 127.0.0.1 --port 8000]

GET / is the page; POST /api/synthesize takes {"text": "...", "seed": 1, "pause": 0.15, "chunk_frames": 32}
and answers a 16-bit mono WAV as it is made (streaming.py); GET /api/health says what is loaded and how busy
it is. Synthesis runs on one worker thread, the streams interleaved chunk by chunk, at most --max_streams at
once (503 beyond); bad requests get a 4xx with {"error": "..."}.
"""

import argparse
import asyncio
import json
import logging
import secrets
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import torch
import uvicorn
from fastapi import FastAPI, Request
from fastapi.responses import HTMLResponse, JSONResponse, StreamingResponse
from pydantic import BaseModel, ConfigDict, Field, ValidationError

import streaming

log = logging.getLogger("serve")
PAGE = Path(__file__).resolve().with_name("serve.html")
MAX_BODY_BYTES = 64 * 1024


class SynthesisRequest(BaseModel):
    """The JSON body of POST /api/synthesize."""

    model_config = ConfigDict(extra="forbid")
    text: str
    seed: int | None = Field(None, ge=0, le=2**31 - 1)  # None: a random one, sent back in X-Seed
    pause: float = Field(0.15, ge=0.0, le=2.0)  # seconds of silence between sentences
    chunk_frames: int | None = Field(None, ge=8, le=512)  # None: the server's --chunk_frames


def error(status: int, message: str, headers: dict | None = None) -> JSONResponse:
    return JSONResponse({"error": message}, status_code=status, headers=headers)


class Synthesis:
    """One request's chunk stream: advanced and closed only on the worker thread, counted while open."""

    def __init__(self, server: "Server", chunks):
        self.server, self.chunks, self.open = server, chunks, True
        server.active += 1

    def next_chunk(self):
        chunk = next(self.chunks, None)
        self.server.chunks_made += chunk is not None
        return chunk

    def close(self, reason: str) -> None:
        if self.open:
            self.open = False
            self.server.active -= 1
            self.server.counts[reason] += 1
            self.server.executor.submit(self.chunks.close)  # after a chunk in progress, on its thread


class SynthesisResponse(StreamingResponse):
    """A StreamingResponse that closes its synthesis whatever ends it: the end, a client gone, an error."""

    def __init__(self, body, synthesis: Synthesis, headers: dict):
        super().__init__(body, media_type="audio/wav", headers=headers)
        self.synthesis = synthesis

    async def __call__(self, scope, receive, send):
        try:
            await super().__call__(scope, receive, send)
        finally:
            await self.body_iterator.aclose()
            self.synthesis.close("stopped")  # a no-op when the stream has ended on its own


class Server:
    """The app's state: model, vocoder, limits, the worker thread and the stream counts."""

    def __init__(self, model, vocoder, hparams, max_streams: int = 4, max_text_chars: int = 1000,
                 chunk_frames: int = 32):
        self.model, self.vocoder, self.hparams = model, vocoder, hparams
        self.max_streams, self.max_text_chars, self.chunk_frames = max_streams, max_text_chars, chunk_frames
        self.executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="synthesis")
        self.active = self.chunks_made = 0
        self.counts = {"finished": 0, "stopped": 0, "failed": 0}

    def health(self) -> dict:
        return {"status": "ok", "vocoder": self.vocoder.name, "sampling_rate": self.hparams.sampling_rate,
                "streams": self.active, "max_streams": self.max_streams,
                "max_text_chars": self.max_text_chars, "chunk_frames": self.chunk_frames,
                "chunks_made": self.chunks_made, **{f"streams_{k}": v for k, v in self.counts.items()}}

    async def parse(self, request: Request) -> SynthesisRequest | JSONResponse:
        """The request's body, read up to MAX_BODY_BYTES, as a SynthesisRequest, or the error response."""
        body = b""
        async for part in request.stream():
            body += part
            if len(body) > MAX_BODY_BYTES:
                return error(413, f"request body over {MAX_BODY_BYTES} bytes")
        try:
            values = json.loads(body)
        except (json.JSONDecodeError, UnicodeDecodeError) as problem:
            return error(422, f"the body is not JSON: {problem}")
        if not isinstance(values, dict):
            return error(422, 'the body must be a JSON object such as {"text": "Hello."}')
        try:
            return SynthesisRequest.model_validate(values)
        except ValidationError as problem:
            fields = "; ".join(f"{'.'.join(map(str, e['loc'])) or 'body'}: {e['msg']}"
                               for e in problem.errors())
            return error(422, f"invalid request: {fields}")

    async def synthesize(self, request: Request):
        parsed = await self.parse(request)
        if isinstance(parsed, JSONResponse):
            return parsed
        if len(parsed.text) > self.max_text_chars:
            return error(413, f"text of {len(parsed.text)} characters; at most {self.max_text_chars}")
        if not parsed.text.strip():
            return error(400, "empty text: nothing to say")
        if self.active >= self.max_streams:
            return error(503, f"busy: {self.active} syntheses in progress; try again shortly",
                         {"Retry-After": "1"})
        seed = secrets.randbelow(2**31) if parsed.seed is None else parsed.seed
        try:
            chunks = streaming.synthesize_stream(self.model, self.vocoder, self.hparams, parsed.text,
                                                 parsed.chunk_frames or self.chunk_frames, pause=parsed.pause,
                                                 seed=seed)
        except ValueError as problem:
            return error(422, str(problem))
        synthesis = Synthesis(self, chunks)
        return SynthesisResponse(self.body(request, synthesis), synthesis,
                                 {"X-Seed": str(seed), "Cache-Control": "no-store"})

    async def body(self, request: Request, synthesis: Synthesis):
        """The WAV header, then each chunk as 16-bit PCM as soon as the worker thread has made it."""
        yield streaming.wav_header(self.hparams.sampling_rate)
        loop = asyncio.get_running_loop()
        while not await request.is_disconnected():
            try:
                chunk = await loop.run_in_executor(self.executor, synthesis.next_chunk)
            except Exception:  # the server stays up; the client gets the audio made so far
                log.exception("synthesis failed")
                synthesis.close("failed")
                return
            if chunk is None:
                synthesis.close("finished")
                return
            yield streaming.pcm16(chunk)


def create_app(server: Server) -> FastAPI:
    app = FastAPI(title="Tacotron 2 streaming synthesis", docs_url=None, redoc_url=None, openapi_url=None)
    page = PAGE.read_text(encoding="utf-8")
    app.get("/", response_class=HTMLResponse)(lambda: page)
    app.get("/api/health")(server.health)
    app.post("/api/synthesize")(server.synthesize)
    app.state.server = server
    return app


def main(argv: list[str] | None = None) -> None:
    from checkpoint import load_tacotron2
    from waveglow_vocoder import load_vocoder

    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("-c", "--checkpoint", required=True, help="Tacotron 2 checkpoint")
    parser.add_argument("--vocoder", default=None, help="vocoder weights (HiFi-GAN or WaveGlow); Griffin-Lim "
                                                        "when not given")
    parser.add_argument("--hparams", default="", help="inference overrides, e.g. max_decoder_steps=2000")
    parser.add_argument("--host", default="127.0.0.1", help="default: this machine only")
    parser.add_argument("--port", type=int, default=8000)
    parser.add_argument("--device", default=None, choices=["cpu", "cuda"],
                        help="default: CUDA when available")
    parser.add_argument("--threads", type=int, default=None, help="torch threads (default: torch's)")
    parser.add_argument("--max_streams", type=int, default=4, help="syntheses at once; more get 503")
    parser.add_argument("--max_text_chars", type=int, default=1000, help="longer text gets 413")
    parser.add_argument("--chunk_frames", type=int, default=32,
                        help="mel frames per chunk (hop_length samples each)")
    args = parser.parse_args(argv)
    if min(args.max_streams, args.max_text_chars) < 1 or not 8 <= args.chunk_frames <= 512:
        parser.error("--max_streams and --max_text_chars must be >= 1, --chunk_frames within 8..512")
    device = torch.device(args.device or ("cuda" if torch.cuda.is_available() else "cpu"))
    if args.threads:
        torch.set_num_threads(args.threads)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(levelname)s %(message)s")
    try:
        model, hparams = load_tacotron2(args.checkpoint, args.hparams, device)
        vocoder = load_vocoder(args.vocoder, hparams, device=device)
    except (ValueError, FileNotFoundError) as problem:
        raise SystemExit(f"error: {problem}") from None
    server = Server(model, vocoder, hparams, args.max_streams, args.max_text_chars, args.chunk_frames)
    warm_up = streaming.synthesize_stream(model, vocoder, hparams, "Warm up.", args.chunk_frames, seed=0)
    next(warm_up, None)  # packs the decoder's weights and warms the kernels before the first request
    warm_up.close()
    log.info("serving on http://%s:%d/ (%s)", args.host, args.port, vocoder.name)
    uvicorn.run(create_app(server), host=args.host, port=args.port, log_level="info")


if __name__ == "__main__":
    main()
