package dev.swarmd.swarm;

import dev.swarmd.protocol.Ids;
import java.io.IOException;
import java.io.StringReader;
import java.io.StringWriter;
import java.math.BigInteger;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.GeneralSecurityException;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.KeyStore;
import java.security.MessageDigest;
import java.security.PrivateKey;
import java.security.PublicKey;
import java.security.SecureRandom;
import java.security.cert.Certificate;
import java.security.cert.CertificateFactory;
import java.time.Duration;
import java.time.Instant;
import java.util.Base64;
import java.util.Date;
import java.util.Map;
import org.bouncycastle.asn1.x500.X500Name;
import org.bouncycastle.asn1.x509.BasicConstraints;
import org.bouncycastle.asn1.x509.ExtendedKeyUsage;
import org.bouncycastle.asn1.x509.Extension;
import org.bouncycastle.asn1.x509.GeneralName;
import org.bouncycastle.asn1.x509.GeneralNames;
import org.bouncycastle.asn1.x509.KeyPurposeId;
import org.bouncycastle.asn1.x509.KeyUsage;
import org.bouncycastle.cert.X509CertificateHolder;
import org.bouncycastle.cert.jcajce.JcaX509v3CertificateBuilder;
import javax.net.ssl.KeyManager;
import javax.net.ssl.KeyManagerFactory;
import javax.net.ssl.TrustManager;
import javax.net.ssl.TrustManagerFactory;
import org.bouncycastle.openssl.PEMKeyPair;
import org.bouncycastle.openssl.PEMParser;
import org.bouncycastle.openssl.jcajce.JcaPEMKeyConverter;
import org.bouncycastle.openssl.jcajce.JcaPEMWriter;
import org.bouncycastle.operator.OperatorCreationException;
import org.bouncycastle.operator.jcajce.JcaContentSignerBuilder;

/**
 * The swarm's root CA: created at `swarm init`, it signs every node's certificate (manager and
 * workers alike), and its digest is the first half of the join tokens, in swarmkit's format
 * SWMTKN-1-&lt;base36 SHA-256 of the CA certificate, 50 chars&gt;-&lt;base36 random secret, 25 chars&gt;.
 * Node certificates name the node (CN), its role (OU) and the swarm (O), and share one DNS name per
 * swarm, which Pekko's TLS transport requires its peers to have in common.
 */
public final class SwarmCa {
  public static final String CA_CERT = "swarm-root-ca.crt";
  public static final String CA_KEY = "swarm-root-ca.key";
  public static final String NODE_CERT = "swarm-node.crt";
  public static final String NODE_KEY = "swarm-node.key";
  private static final SecureRandom RANDOM = new SecureRandom();

  private final String certPem;
  private final PrivateKey key;

  private SwarmCa(String certPem, PrivateKey key) {
    this.certPem = certPem;
    this.key = key;
  }

  public String certPem() {
    return certPem;
  }

  /** The CA's key, PEM: every manager holds it, to sign the certificates of the nodes that join it. */
  public String keyPem() {
    return pem(key);
  }

  /** Keeps the CA's key a manager got when it joined, owner-only, beside the CA's certificate. */
  public static void writeCaKey(Path certDir, String keyPem) {
    try {
      writeOwnerOnly(certDir.resolve(CA_KEY), keyPem);
    } catch (IOException e) {
      throw new IllegalStateException("cannot write the swarm CA's key: " + e.getMessage(), e);
    }
  }

  /** The CA certificate of a node's data root (every node has it; only managers have the key). */
  public static String certPem(Path certDir) {
    try {
      return Files.readString(certDir.resolve(CA_CERT));
    } catch (IOException e) {
      throw new IllegalStateException("cannot read the swarm CA certificate: " + e.getMessage(), e);
    }
  }

  public static SwarmCa create(Path certDir, String clusterId) {
    try {
      Files.createDirectories(certDir);
      KeyPair keys = newKeyPair();
      X500Name name = new X500Name("CN=swarm-ca,O=" + clusterId);
      Instant now = Instant.now();
      JcaX509v3CertificateBuilder builder = new JcaX509v3CertificateBuilder(name, serial(),
          Date.from(now.minus(Duration.ofHours(1))), Date.from(now.plus(Duration.ofDays(20 * 365))), name,
          keys.getPublic());
      builder.addExtension(Extension.basicConstraints, true, new BasicConstraints(true));
      builder.addExtension(Extension.keyUsage, true, new KeyUsage(KeyUsage.keyCertSign | KeyUsage.cRLSign));
      String certPem = pem(builder.build(new JcaContentSignerBuilder("SHA256withRSA").build(keys.getPrivate())));
      writeOwnerOnly(certDir.resolve(CA_KEY), pem(keys.getPrivate()));
      writeOwnerOnly(certDir.resolve(CA_CERT), certPem);
      return new SwarmCa(certPem, keys.getPrivate());
    } catch (OperatorCreationException | IOException e) {
      throw new IllegalStateException("cannot create the swarm CA: " + e.getMessage(), e);
    }
  }

  /** The CA of a manager's data root. */
  public static SwarmCa load(Path certDir) {
    try {
      String certPem = Files.readString(certDir.resolve(CA_CERT));
      return new SwarmCa(certPem, readKey(Files.readString(certDir.resolve(CA_KEY))));
    } catch (IOException e) {
      throw new IllegalStateException("cannot read the swarm CA: " + e.getMessage(), e);
    }
  }

  /**
   * Signs a node's public key: CN node ID, OU swarm-manager|swarm-worker, O the swarm's ID. ip, when
   * given, is added as an IP name, so that joining nodes can verify the manager they connect to.
   */
  public String issue(PublicKey nodeKey, String nodeId, String role, String clusterId, String ip,
      Duration validity) {
    try {
      X509CertificateHolder ca = (X509CertificateHolder) new PEMParser(new StringReader(certPem)).readObject();
      Instant now = Instant.now();
      JcaX509v3CertificateBuilder builder = new JcaX509v3CertificateBuilder(ca.getSubject(), serial(),
          Date.from(now.minus(Duration.ofHours(1))), Date.from(now.plus(validity)),
          new X500Name("CN=" + nodeId + ",OU=swarm-" + role + ",O=" + clusterId), nodeKey);
      builder.addExtension(Extension.basicConstraints, true, new BasicConstraints(false));
      builder.addExtension(Extension.keyUsage, true,
          new KeyUsage(KeyUsage.digitalSignature | KeyUsage.keyEncipherment));
      builder.addExtension(Extension.extendedKeyUsage, false,
          new ExtendedKeyUsage(new KeyPurposeId[] {KeyPurposeId.id_kp_serverAuth, KeyPurposeId.id_kp_clientAuth}));
      GeneralName swarm = new GeneralName(GeneralName.dNSName, swarmName(clusterId));
      builder.addExtension(Extension.subjectAlternativeName, false, new GeneralNames(ip == null
          ? new GeneralName[] {swarm} : new GeneralName[] {swarm, new GeneralName(GeneralName.iPAddress, ip)}));
      return pem(builder.build(new JcaContentSignerBuilder("SHA256withRSA").build(key)));
    } catch (IOException | OperatorCreationException e) {
      throw new IllegalStateException("cannot sign a node certificate: " + e.getMessage(), e);
    }
  }

  /**
   * Docker's TLSInfo for a CA certificate: the DER of its subject and of its public key, base64
   * (Go's encoding of []byte), as `docker node inspect` and `docker info` show them.
   */
  public static Map<String, String> tlsInfo(String caCertPem) {
    try {
      X509CertificateHolder ca = (X509CertificateHolder) new PEMParser(new StringReader(caCertPem)).readObject();
      Base64.Encoder b64 = Base64.getEncoder();
      return Map.of("TrustRoot", caCertPem,
          "CertIssuerSubject", b64.encodeToString(ca.getSubject().getEncoded()),
          "CertIssuerPublicKey", b64.encodeToString(ca.getSubjectPublicKeyInfo().getEncoded()));
    } catch (IOException e) {
      throw new IllegalStateException("cannot read the CA certificate: " + e.getMessage(), e);
    }
  }

  /** The DNS name every node certificate of a swarm carries. */
  public static String swarmName(String clusterId) {
    return "swarm-" + clusterId;
  }

  public static KeyPair newKeyPair() {
    try {
      KeyPairGenerator gen = KeyPairGenerator.getInstance("RSA");
      gen.initialize(2048, RANDOM);
      return gen.generateKeyPair();
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException(e);
    }
  }

  /** Writes a node's identity (its key, its certificate, the CA's certificate), owner-only. */
  public static void writeNodeIdentity(Path certDir, PrivateKey nodeKey, String nodeCertPem, String caCertPem) {
    try {
      Files.createDirectories(certDir);
      writeOwnerOnly(certDir.resolve(NODE_KEY), pem(nodeKey));
      writeOwnerOnly(certDir.resolve(NODE_CERT), nodeCertPem);
      writeOwnerOnly(certDir.resolve(CA_CERT), caCertPem);
    } catch (IOException e) {
      throw new IllegalStateException("cannot write the node's certificates: " + e.getMessage(), e);
    }
  }

  public static String joinToken(String caCertPem) {
    byte[] secret = new byte[16];
    RANDOM.nextBytes(secret);
    return "SWMTKN-1-" + digest(caCertPem) + "-" + Ids.base36(secret, 25);
  }

  /** The CA part of a join token: base36 of the SHA-256 of the CA certificate. */
  public static String digest(String caCertPem) {
    try {
      byte[] d = MessageDigest.getInstance("SHA-256").digest(caCertPem.getBytes(StandardCharsets.UTF_8));
      return Ids.base36(d, 50);
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException(e);
    }
  }

  public static String pem(Object o) {
    StringWriter out = new StringWriter();
    try (JcaPEMWriter w = new JcaPEMWriter(out)) {
      w.writeObject(o);
    } catch (IOException e) {
      throw new IllegalStateException(e);
    }
    return out.toString();
  }

  public static PrivateKey readKey(String pem) throws IOException {
    Object o = new PEMParser(new StringReader(pem)).readObject();
    JcaPEMKeyConverter conv = new JcaPEMKeyConverter();
    if (o instanceof PEMKeyPair kp) {
      return conv.getKeyPair(kp).getPrivate();
    }
    return conv.getPrivateKey((org.bouncycastle.asn1.pkcs.PrivateKeyInfo) o);
  }

  /** The node's identity and the swarm's CA as JSSE managers, for mutual TLS between managers. */
  public record Tls(KeyManager keys, TrustManager trust) {}

  public static Tls tls(Path certDir) {
    try {
      PrivateKey key = readKey(Files.readString(certDir.resolve(NODE_KEY)));
      CertificateFactory x509 = CertificateFactory.getInstance("X.509");
      Certificate node = x509.generateCertificate(Files.newInputStream(certDir.resolve(NODE_CERT)));
      Certificate ca = x509.generateCertificate(Files.newInputStream(certDir.resolve(CA_CERT)));
      char[] password = "swarmd".toCharArray();
      KeyStore identity = KeyStore.getInstance("PKCS12");
      identity.load(null, null);
      identity.setKeyEntry("node", key, password, new Certificate[] {node, ca});
      KeyManagerFactory kmf = KeyManagerFactory.getInstance(KeyManagerFactory.getDefaultAlgorithm());
      kmf.init(identity, password);
      KeyStore trusted = KeyStore.getInstance("PKCS12");
      trusted.load(null, null);
      trusted.setCertificateEntry("swarm-ca", ca);
      TrustManagerFactory tmf = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
      tmf.init(trusted);
      return new Tls(kmf.getKeyManagers()[0], tmf.getTrustManagers()[0]);
    } catch (IOException | GeneralSecurityException e) {
      throw new IllegalStateException("cannot read the node's certificates: " + e.getMessage(), e);
    }
  }

  private static BigInteger serial() {
    return new BigInteger(64, RANDOM);
  }

  private static void writeOwnerOnly(Path file, String content) throws IOException {
    Files.deleteIfExists(file);
    Files.createFile(file, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------")));
    Files.writeString(file, content, StandardOpenOption.TRUNCATE_EXISTING);
  }
}
