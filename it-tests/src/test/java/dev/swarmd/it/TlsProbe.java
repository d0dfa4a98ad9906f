package dev.swarmd.it;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.net.InetSocketAddress;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyFactory;
import java.security.KeyStore;
import java.security.PrivateKey;
import java.security.cert.Certificate;
import java.security.cert.CertificateFactory;
import java.security.cert.X509Certificate;
import java.security.spec.PKCS8EncodedKeySpec;
import java.util.Base64;
import javax.net.ssl.KeyManagerFactory;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLException;
import javax.net.ssl.SSLSocket;
import javax.net.ssl.TrustManagerFactory;

/**
 * A bare TLS client for a node's cluster port: it trusts the given CA (so its own side never ends the handshake),
 * optionally presents a node key and certificate from some data root, completes the handshake and then listens.
 * A peer that refuses the client's certificate sends an alert or closes the connection ({@link Outcome#refused});
 * one that accepts it keeps the connection open, waiting for the Artery protocol ({@link Outcome#accepted}).
 */
public final class TlsProbe {
    private TlsProbe() {}

    public record Outcome(boolean accepted, String detail) {
        public boolean refused() {
            return !accepted;
        }
    }

    /** The node identity files in a data root (dev.swarmd.swarm.SwarmCa's names). */
    public static Path certDir(Path dataRoot) {
        return dataRoot.resolve("swarm").resolve("certificates");
    }

    public static Outcome probe(String host, int port, Path trustedCaPem, Path nodeCertPem, Path nodeKeyPem) {
        try {
            KeyStore trust = KeyStore.getInstance("PKCS12");
            trust.load(null, null);
            trust.setCertificateEntry("ca", certificate(trustedCaPem));
            TrustManagerFactory tmf = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
            tmf.init(trust);
            KeyManagerFactory kmf = null;
            if (nodeCertPem != null) {
                char[] pw = "probe".toCharArray();
                KeyStore keys = KeyStore.getInstance("PKCS12");
                keys.load(null, null);
                keys.setKeyEntry("node", privateKey(nodeKeyPem), pw, new Certificate[] {certificate(nodeCertPem)});
                kmf = KeyManagerFactory.getInstance(KeyManagerFactory.getDefaultAlgorithm());
                kmf.init(keys, pw);
            }
            SSLContext ctx = SSLContext.getInstance("TLS");
            ctx.init(kmf == null ? null : kmf.getKeyManagers(), tmf.getTrustManagers(), null);
            try (SSLSocket s = (SSLSocket) ctx.getSocketFactory().createSocket()) {
                s.connect(new InetSocketAddress(host, port), 5000);
                s.setSoTimeout(4000);
                s.startHandshake();
                String protocol = s.getSession().getProtocol();
                int b = s.getInputStream().read();
                return b < 0 ? new Outcome(false, protocol + " handshake, then the peer closed the connection")
                        : new Outcome(true, protocol + " handshake, then the peer sent data");
            } catch (SocketTimeoutException e) {
                return new Outcome(true, "handshake done and the connection stays open");
            } catch (SSLException e) {
                return new Outcome(false, "TLS refused: " + e);
            } catch (IOException e) {
                return new Outcome(false, "connection ended: " + e);
            }
        } catch (IOException | GeneralSecurityException e) {
            throw new IllegalStateException("cannot set up the TLS probe: " + e, e);
        }
    }

    static X509Certificate certificate(Path pem) throws IOException, GeneralSecurityException {
        try (InputStream in = new ByteArrayInputStream(Files.readAllBytes(pem))) {
            return (X509Certificate) CertificateFactory.getInstance("X.509").generateCertificate(in);
        }
    }

    /** A PEM private key: PKCS#8 ("PRIVATE KEY") or PKCS#1 RSA ("RSA PRIVATE KEY", wrapped into PKCS#8 here). */
    static PrivateKey privateKey(Path pem) throws IOException, GeneralSecurityException {
        String text = Files.readString(pem, StandardCharsets.US_ASCII);
        boolean pkcs1 = text.contains("BEGIN RSA PRIVATE KEY");
        String b64 = text.replaceAll("-----[A-Z ]+-----", "").replaceAll("\\s", "");
        byte[] der = Base64.getDecoder().decode(b64);
        if (pkcs1) {
            der = pkcs1ToPkcs8(der);
        }
        return KeyFactory.getInstance("RSA").generatePrivate(new PKCS8EncodedKeySpec(der));
    }

    static byte[] pkcs1ToPkcs8(byte[] pkcs1) {
        byte[] version = {0x02, 0x01, 0x00};
        byte[] rsaAlgorithm = {0x30, 0x0d, 0x06, 0x09, 0x2a, (byte) 0x86, 0x48, (byte) 0x86, (byte) 0xf7, 0x0d, 0x01,
            0x01, 0x01, 0x05, 0x00};
        ByteArrayOutputStream body = new ByteArrayOutputStream();
        body.writeBytes(version);
        body.writeBytes(rsaAlgorithm);
        body.writeBytes(derHeader(0x04, pkcs1.length));
        body.writeBytes(pkcs1);
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        out.writeBytes(derHeader(0x30, body.size()));
        out.writeBytes(body.toByteArray());
        return out.toByteArray();
    }

    private static byte[] derHeader(int tag, int length) {
        if (length < 0x80) {
            return new byte[] {(byte) tag, (byte) length};
        }
        if (length < 0x100) {
            return new byte[] {(byte) tag, (byte) 0x81, (byte) length};
        }
        return new byte[] {(byte) tag, (byte) 0x82, (byte) (length >> 8), (byte) length};
    }
}
