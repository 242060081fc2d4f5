"""serve.py in-process (FastAPI's TestClient) and as a real process on a free loopback port: the page, health,
a streamed WAV equal to streaming.py's audio, each bad request's code and message, the bound on streams
(503), a client that goes away stopping its synthesis; and (opt-in, `pytest -m browser`) the page in headless
Chromium."""

import dataclasses
import http.client
import io
import json
import os
import shutil
import socket
import subprocess
import sys
import time
import warnings

import numpy as np
import pytest
import soundfile
import torch
from fastapi.testclient import TestClient

import serve
import streaming
from conftest import ROOT
from hparams import create_hparams
from model import Tacotron2
from waveglow_vocoder import GriffinLimVocoder

TINY = ("symbols_embedding_dim=16,encoder_embedding_dim=16,encoder_kernel_size=3,prenet_dim=16,"
        "attention_rnn_dim=32,decoder_rnn_dim=32,attention_dim=8,attention_location_n_filters=4,"
        "attention_location_kernel_size=5,postnet_embedding_dim=16,postnet_n_convolutions=2,"
        "max_decoder_steps=120,griffin_lim_iters=30")
# four pieces of at most 200 characters (inference.split_text), so 4 * 120 frames and 3 pauses of 13 frames
SENTENCE = ("This sentence has enough words in it to fill more than half of one piece of the text, "
            "which is decoded at once.")
LONG_TEXT = " ".join([SENTENCE] * 4)
LONG_FRAMES = 4 * 120 + 3 * 13


def tiny_model():
    """A tiny model that never stops on its own: max_decoder_steps (120) steps per piece."""
    torch.manual_seed(0)
    hparams = create_hparams(TINY)
    model = Tacotron2(hparams).eval()
    model.decoder.gate_layer.linear_layer.bias.data.fill_(-100.0)
    return model, hparams


@pytest.fixture(scope="module")
def client():
    model, hparams = tiny_model()
    server = serve.Server(model, GriffinLimVocoder(hparams, n_iters=2), hparams, max_text_chars=300)
    with TestClient(serve.create_app(server)) as test_client, warnings.catch_warnings():
        warnings.simplefilter("ignore")  # max_decoder_steps, by design here
        yield test_client


def test_page_and_health(client):
    page = client.get("/")
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    assert 'fetch("/api/synthesize"' in page.text and 'id="play"' in page.text
    health = client.get("/api/health").json()
    assert health["status"] == "ok" and health["vocoder"] == "Griffin-Lim" and health["streams"] == 0
    assert health["sampling_rate"] == 22050 and health["max_text_chars"] == 300


def test_synthesize_streams_the_wav_of_the_streaming_api(client):
    text = " ".join([SENTENCE] * 2)
    settings = {"seed": 5, "chunk_frames": 16, "pause": 0.2}
    response = client.post("/api/synthesize", json={"text": text, **settings})
    assert response.status_code == 200 and response.headers["content-type"] == "audio/wav"
    assert response.headers["x-seed"] == "5"
    header = response.content[:44]
    assert header[:4] == b"RIFF" and header[8:16] == b"WAVEfmt " and header[36:40] == b"data"
    assert int.from_bytes(header[40:44], "little") == 0xFFFFFFFF - 36  # unknown length: the largest
    audio, rate = soundfile.read(io.BytesIO(response.content), dtype="float32")
    server = client.app.state.server
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        expected = np.concatenate(list(streaming.synthesize_stream(
            server.model, server.vocoder, server.hparams, text, 16, pause=0.2, seed=5)))
    assert rate == 22050 and len(audio) == len(expected) == (2 * 120 + round(0.2 * 22050 / 256)) * 256
    np.testing.assert_allclose(audio, expected, rtol=0, atol=1.5 / 32767)


@pytest.mark.parametrize("body, status, message", [
    ({"text": "  "}, 400, "empty text"),
    ({"text": "?!... ,"}, 422, "nothing speakable"),
    ({"text": "x" * 301}, 413, "at most 300"),
    ({}, 422, "text: Field required"),
    ({"text": 5}, 422, "text: Input should be a valid string"),
    ({"text": "Hi.", "voice": "x"}, 422, "voice: Extra inputs are not permitted"),
    ({"text": "Hi.", "seed": -1}, 422, "seed: Input should be greater than or equal to 0"),
    ({"text": "Hi.", "chunk_frames": 1}, 422, "chunk_frames: Input should be greater than or equal to 8"),
    ({"text": "Hi.", "pause": "long"}, 422, "pause: Input should be a valid number"),
    (b"{not json", 422, "not JSON"),
    (b"\xff\xfe", 422, "not JSON"),
    (b'["Hi."]', 422, "must be a JSON object"),
    (b"x" * (serve.MAX_BODY_BYTES + 1), 413, "request body over"),
])
def test_bad_requests_get_their_code_and_a_clear_message(client, body, status, message):
    content = body if isinstance(body, bytes) else json.dumps(body).encode()
    response = client.post("/api/synthesize", content=content, headers={"Content-Type": "application/json"})
    assert response.status_code == status and message in response.json()["error"]
    assert client.get("/api/health").json()["streams"] == 0


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture(scope="module")
def server_process(tmp_path_factory):
    """serve.py as the command starts it, on a free loopback port, at most one stream at a time."""
    model, hparams = tiny_model()
    checkpoint = tmp_path_factory.mktemp("serve") / "tiny.pt"
    torch.save({"state_dict": model.state_dict(), "hparams": dataclasses.asdict(hparams)}, checkpoint)
    port = free_port()
    process = subprocess.Popen([sys.executable, "serve.py", "-c", str(checkpoint), "--port", str(port),
                                "--max_streams", "1", "--chunk_frames", "8", "--device", "cpu"],
                               cwd=ROOT, env={**os.environ, "OMP_NUM_THREADS": "1"},
                               stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        try:
            if get_json(port, "/api/health")["status"] == "ok":
                break
        except OSError:
            assert process.poll() is None, process.stdout.read().decode()[-3000:]
            time.sleep(0.2)
    yield port
    process.terminate()
    process.wait(timeout=30)


def get_json(port: int, path: str) -> dict:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    connection.request("GET", path)
    return json.loads(connection.getresponse().read())


def start_synthesis(port: int, text: str, **settings):
    """-> the connection and its response, whose body has not been read yet."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    connection.request("POST", "/api/synthesize", body=json.dumps({"text": text, **settings}),
                       headers={"Content-Type": "application/json"})
    return connection, connection.getresponse()


def wait_until_idle(port: int) -> dict:
    for _ in range(100):
        health = get_json(port, "/api/health")
        if health["streams"] == 0:
            return health
        time.sleep(0.1)
    raise AssertionError(f"still streaming: {health}")


def test_audio_arrives_while_synthesis_goes_on(server_process):
    connection, response = start_synthesis(server_process, LONG_TEXT, seed=1)
    start, arrivals, body = time.monotonic(), [], b""
    while part := response.read1(65536):
        arrivals.append((time.monotonic() - start, len(body) + len(part)))
        body += part
    connection.close()
    audio, rate = soundfile.read(io.BytesIO(body), dtype="float32")
    assert rate == 22050 and len(audio) == LONG_FRAMES * 256
    first_audio = next(time for time, size in arrivals if size > 44)
    assert first_audio < 0.5 * arrivals[-1][0], arrivals  # the first samples long before the last
    assert len(arrivals) > 10


def test_streams_beyond_the_bound_get_503_and_a_client_gone_stops_its_synthesis(server_process):
    port = server_process
    before = wait_until_idle(port)
    connection, response = start_synthesis(port, LONG_TEXT)
    assert response.status == 200 and len(response.read1(65536)) > 0  # streaming, at most 1 stream
    other, refused = start_synthesis(port, "Another text.")
    assert refused.status == 503 and "busy" in json.loads(refused.read())["error"]
    assert refused.getheader("Retry-After") == "1"
    other.close()
    connection.sock.shutdown(socket.SHUT_RDWR)  # the client goes away mid-stream
    connection.close()
    after = wait_until_idle(port)
    assert after["streams_stopped"] == before["streams_stopped"] + 1
    time.sleep(0.5)
    made = get_json(port, "/api/health")["chunks_made"]
    assert made <= after["chunks_made"] + 1  # at most the chunk in progress when the client went
    time.sleep(0.5)
    assert get_json(port, "/api/health")["chunks_made"] == made  # then none
    assert made - before["chunks_made"] < 0.5 * LONG_FRAMES / 8  # a whole stream makes LONG_FRAMES / 8
    connection, response = start_synthesis(port, "Free again.")
    assert response.status == 200 and len(response.read()) == 44 + 2 * 120 * 256
    connection.close()


@pytest.mark.browser
def test_the_page_plays_audio_in_headless_chromium(server_process):
    webdriver = pytest.importorskip("selenium.webdriver")
    chromium, driver = shutil.which("chromium"), shutil.which("chromedriver")
    if not (chromium and driver):
        pytest.skip("needs Debian's chromium and chromium-driver (apt-get install chromium chromium-driver)")
    options = webdriver.ChromeOptions()
    options.binary_location = chromium
    for flag in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage",
                 "--autoplay-policy=no-user-gesture-required"):
        options.add_argument(flag)
    browser = webdriver.Chrome(options=options, service=webdriver.ChromeService(executable_path=driver))
    try:
        browser.get(f"http://127.0.0.1:{server_process}/")
        text = browser.find_element("id", "text")
        text.clear()
        text.send_keys(" ".join([SENTENCE] * 2))
        browser.find_element("id", "play").click()
        for _ in range(300):
            stats = browser.execute_script("return window.synthesisStats")
            if stats["state"] in ("done", "error"):
                break
            time.sleep(0.1)
        assert stats["state"] == "done", stats
        assert stats["samples"] == (2 * 120 + 13) * 256 and stats["chunks"] > 1
        assert 0 < stats["firstAudioMs"] and stats["realTimeFactor"] > 0
        assert browser.execute_script("return context.state") == "running"
        assert "First audio after" in browser.find_element("id", "status").text
    finally:
        browser.quit()


def test_command_line_errors_are_clear(tmp_path):
    with pytest.raises(SystemExit, match="checkpoint not found"):
        serve.main(["-c", str(tmp_path / "missing.pt")])
    model, hparams = tiny_model()
    checkpoint = tmp_path / "tiny.pt"
    torch.save({"state_dict": model.state_dict(), "hparams": dataclasses.asdict(hparams)}, checkpoint)
    with pytest.raises(SystemExit, match="not a vocoder"):
        serve.main(["-c", str(checkpoint), "--vocoder", str(checkpoint)])
    with pytest.raises(SystemExit):
        serve.main(["-c", str(checkpoint), "--chunk_frames", "2"])
