"""The client TLS context of a broker connection, built from the twin's files.

The loader builds it when the twin loads, so a CA, certificate or key that is not
usable is a problem of the twin file, with its line; the MQTT source builds it again
when it connects (the files may have changed since).
"""

from __future__ import annotations

import ssl

from viewer.twin.schema import TlsSpec


class TlsError(ValueError):
    """A TLS file that cannot be used.

    Attributes
    ----------
    key : str
        The setting naming the file: ``ca``, ``cert`` or ``key``.
    path : str
        The file, as given.
    problem : str
        What is wrong, to follow the file's name: ``is not a PEM certificate: ...``.
    """

    def __init__(self, key: str, path: str, problem: str):
        self.key, self.path, self.problem = key, path, problem
        super().__init__(f"TLS {key} {path} {problem}")


def tls_context(tls: TlsSpec | None) -> ssl.SSLContext:
    """A client TLS context: the twin's CA (or the system's), its client certificate,
    and certificate and host name checks unless the twin explicitly says ``insecure``.

    Parameters
    ----------
    tls : TlsSpec or None
        The twin's TLS settings (paths as the process can open them); None: the
        system's CAs and no client certificate.

    Raises
    ------
    TlsError
        If a file cannot be read, is not PEM, or the key does not fit the certificate.
    """
    try:
        context = ssl.create_default_context(cafile=tls.ca if tls else None)
    except ssl.SSLError as exc:  # before OSError: SSLError is one
        raise TlsError("ca", tls.ca, f"is not a PEM certificate: {_reason(exc)}") from None
    except OSError as exc:
        raise TlsError("ca", tls.ca, f"cannot be read: {exc.strerror or exc}") from None
    if tls is not None and tls.cert:
        _load_client_certificate(context, tls)
    if tls is not None and tls.insecure:
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
    return context


def _load_client_certificate(context: ssl.SSLContext, tls: TlsSpec) -> None:
    # OpenSSL says only "PEM lib" when either file is wrong: try the certificate on its
    # own first, so the message can name the file that is wrong.
    try:
        ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT).load_verify_locations(cafile=tls.cert)
    except ssl.SSLError as exc:
        raise TlsError("cert", tls.cert, f"is not a PEM certificate: {_reason(exc)}") from None
    except OSError as exc:
        raise TlsError("cert", tls.cert, f"cannot be read: {exc.strerror or exc}") from None
    try:
        context.load_cert_chain(tls.cert, tls.key, password=_no_passphrase)
    except _Encrypted:
        raise TlsError("key" if tls.key else "cert", tls.key or tls.cert,
                       "is encrypted with a passphrase: the viewer cannot ask for it, use a key without one") from None
    except ssl.SSLError as exc:
        if tls.key is None:
            raise TlsError("cert", tls.cert, "holds no private key: give tls.key too") from None
        if exc.reason == "KEY_VALUES_MISMATCH":
            raise TlsError("key", tls.key, "is not the key of the certificate in tls.cert") from None
        raise TlsError("key", tls.key, "is not a PEM private key") from None
    except OSError as exc:
        raise TlsError("key", tls.key, f"cannot be read: {exc.strerror or exc}") from None


class _Encrypted(Exception):
    pass


def _no_passphrase():
    # Never prompt on the terminal: an encrypted key is an error, said when the twin loads.
    raise _Encrypted


def _reason(exc: ssl.SSLError) -> str:
    """OpenSSL's reason in words: NO_CERTIFICATE_OR_CRL_FOUND -> no certificate or crl found."""
    return exc.reason.replace("_", " ").lower() if exc.reason else str(exc)
