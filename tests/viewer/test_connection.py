"""Connection options against real Mosquitto brokers: TLS, MQTT 5 sessions, logins."""

import datetime
import getpass
import shutil
import subprocess

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from tests.conftest import Publisher, wait_until
from viewer.live.broker import free_port, mosquitto_path, wait_for_port
from viewer.live.mqtt import MqttSource
from viewer.twin.schema import BrokerSpec, TlsSpec


def _name(cn):
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, cn)])


def _cert(subject, key, issuer, issuer_key, ca=False, hosts=()):
    now = datetime.datetime.now(datetime.timezone.utc)
    builder = (x509.CertificateBuilder().subject_name(_name(subject)).issuer_name(_name(issuer))
               .public_key(key.public_key()).serial_number(x509.random_serial_number())
               .not_valid_before(now - datetime.timedelta(minutes=5))
               .not_valid_after(now + datetime.timedelta(days=1))
               .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True))
    if hosts:
        builder = builder.add_extension(x509.SubjectAlternativeName([x509.DNSName(h) for h in hosts]), False)
    return builder.sign(issuer_key, hashes.SHA256())


def _write(path, *objs):
    data = b""
    for obj in objs:
        if isinstance(obj, x509.Certificate):
            data += obj.public_bytes(serialization.Encoding.PEM)
        else:
            data += obj.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                      serialization.NoEncryption())
    path.write_bytes(data)
    return str(path)


@pytest.fixture
def pki(tmp_path):
    """A CA, a server certificate for 'localhost' only, and a CA nobody trusts."""
    ca_key, other_key, server_key = (ec.generate_private_key(ec.SECP256R1()) for _ in range(3))
    ca = _cert("Test CA", ca_key, "Test CA", ca_key, ca=True)
    other = _cert("Other CA", other_key, "Other CA", other_key, ca=True)
    server = _cert("localhost", server_key, "Test CA", ca_key, hosts=["localhost"])
    client_key = ec.generate_private_key(ec.SECP256R1())
    client = _cert("technician", client_key, "Test CA", ca_key)
    return {
        "client_cert": _write(tmp_path / "client.pem", client),
        "client_key": _write(tmp_path / "client.key", client_key),
        "ca": _write(tmp_path / "ca.pem", ca),
        "other_ca": _write(tmp_path / "other.pem", other),
        "cert": _write(tmp_path / "server.pem", server),
        "key": _write(tmp_path / "server.key", server_key),
    }


def _mosquitto(tmp_path, lines):
    port = free_port()
    conf = tmp_path / f"m{port}.conf"
    # Started as root, Mosquitto would drop to its own user, who cannot read tmp_path.
    conf.write_text(f"listener {port} 127.0.0.1\nuser {getpass.getuser()}\n" + "\n".join(lines) + "\n")
    proc = subprocess.Popen([mosquitto_path(), "-c", str(conf)], stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)
    wait_for_port(port, process=proc)
    return proc, port


@pytest.fixture
def tls_broker(tmp_path, pki):
    proc, port = _mosquitto(tmp_path, [f"cafile {pki['ca']}", f"certfile {pki['cert']}",
                                       f"keyfile {pki['key']}", "allow_anonymous true"])
    yield port
    proc.terminate()
    proc.wait()


def _connect(url, options, password=None):
    source = MqttSource(url, ["t"], options, password)
    source.start()
    return source


@pytest.mark.parametrize("case, url_host, ca, insecure, state, detail", [
    ("trusted CA", "localhost", "ca", False, "live", ""),
    ("untrusted CA", "localhost", "other_ca", False, "reconnecting", "TLS refused: self-signed certificate"),
    ("wrong host name", "127.0.0.1", "ca", False, "reconnecting", "TLS refused: IP address mismatch"),
    ("insecure, said so", "127.0.0.1", "other_ca", True, "live", "TLS NOT VERIFIED"),
])
def test_tls_verifies_the_server_unless_told_not_to(tls_broker, pki, case, url_host, ca, insecure, state, detail):
    url = f"mqtts://{url_host}:{tls_broker}"
    source = _connect(url, BrokerSpec(url=url, tls=TlsSpec(ca=pki[ca], insecure=insecure)))
    try:
        wait_until(lambda: source.status.state == state, timeout=10)
        assert source.status.detail.startswith(detail), source.status
    finally:
        source.stop()


def test_a_broker_that_requires_a_client_certificate_gets_ours(tmp_path, pki):
    proc, port = _mosquitto(tmp_path, [f"cafile {pki['ca']}", f"certfile {pki['cert']}", f"keyfile {pki['key']}",
                                       "require_certificate true", "allow_anonymous true"])
    url = f"mqtts://localhost:{port}"
    try:
        without = _connect(url, BrokerSpec(url=url, tls=TlsSpec(ca=pki["ca"])))
        with_cert = _connect(url, BrokerSpec(url=url, tls=TlsSpec(ca=pki["ca"], cert=pki["client_cert"],
                                                                  key=pki["client_key"])))
        try:
            wait_until(lambda: with_cert.status.state == "live", timeout=10)
            wait_until(lambda: without.status.state == "reconnecting", timeout=10)
        finally:
            without.stop()
            with_cert.stop()
    finally:
        proc.terminate()
        proc.wait()


def _drop_connection(source):
    """Cut the viewer's TCP connection under paho's feet, as a flaky network would."""
    import socket

    source._client.socket().shutdown(socket.SHUT_RDWR)


@pytest.mark.parametrize("persistent", [True, False])
def test_mqtt5_persistent_session_delivers_what_was_published_while_cut_off(mosquitto, persistent):
    topics = {f"seq/{i}": 1 for i in range(10)}
    options = BrokerSpec(url=mosquitto, protocol="5", client_id="viewer-under-test" if persistent else None,
                         session_expiry=120 if persistent else None)
    source = MqttSource(mosquitto, topics, options)
    source.start()
    publisher = Publisher(mosquitto)
    try:
        wait_until(lambda: source.status.state == "live")
        _drop_connection(source)
        wait_until(lambda: source.status.state == "reconnecting")
        for i in range(10):  # QoS 1, while the viewer is away (reconnect waits >= 1 s)
            publisher.send(f"seq/{i}", str(i))
        wait_until(lambda: source.status.state == "live", timeout=10)
        if persistent:
            arrived = lambda: sorted(int(p) for p, _, _ in list(source._latest.values()))  # noqa: E731
            try:
                wait_until(lambda: len(source._latest) == 10)
            except AssertionError:  # say what did arrive: a lost message differs from a late one
                raise AssertionError(f"after the reconnect only {arrived()} arrived "
                                     f"(status {source.status})") from None
            assert sorted(int(p) for p, _, _ in source.drain().values()) == list(range(10))
        else:
            import time

            time.sleep(0.5)
            assert source.drain() == {}  # a clean session misses them: the difference is the point
    finally:
        publisher.close()
        source.stop()


def test_a_login_takes_its_password_from_the_environment(tmp_path, monkeypatch):
    from viewer.live.mqtt import password_for

    passwd = tmp_path / "passwd"
    passwd.write_text("")
    subprocess.run([shutil.which("mosquitto_passwd"), "-b", str(passwd), "tech", "s3cret"], check=True)
    proc, port = _mosquitto(tmp_path, [f"password_file {passwd}", "allow_anonymous false"])
    url = f"mqtt://127.0.0.1:{port}"
    options = BrokerSpec(url=url, username="tech", password_env="TEST_BROKER_PW", allow_plain_login=True)
    try:
        for password, state in (("wrong", "reconnecting"), ("s3cret", "live")):
            monkeypatch.setenv("TEST_BROKER_PW", password)
            source = _connect(url, options, password_for(options))
            try:
                wait_until(lambda: source.status.state == state)
                if state == "reconnecting":
                    assert "Not authorized" in source.status.detail
            finally:
                source.stop()
    finally:
        proc.terminate()
        proc.wait()


def test_a_login_over_plain_tcp_is_refused_unless_allowed():
    with pytest.raises(ValueError, match="clear text"):
        BrokerSpec(url="mqtt://plant:1883", username="tech")
    assert BrokerSpec(url="mqtts://plant", username="tech").uses_tls
