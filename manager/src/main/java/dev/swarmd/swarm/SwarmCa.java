package dev.swarmd.swarm;

import dev.swarmd.protocol.Ids;
import java.io.IOException;
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
import java.security.MessageDigest;
import java.security.SecureRandom;
import java.time.Duration;
import java.time.Instant;
import java.util.Date;
import org.bouncycastle.asn1.x500.X500Name;
import org.bouncycastle.asn1.x509.BasicConstraints;
import org.bouncycastle.asn1.x509.Extension;
import org.bouncycastle.asn1.x509.KeyUsage;
import org.bouncycastle.cert.X509CertificateHolder;
import org.bouncycastle.cert.jcajce.JcaX509v3CertificateBuilder;
import org.bouncycastle.openssl.jcajce.JcaPEMWriter;
import org.bouncycastle.operator.OperatorCreationException;
import org.bouncycastle.operator.jcajce.JcaContentSignerBuilder;

/**
 * The swarm's root CA (created at `swarm init`) and join tokens in swarmkit's format:
 * SWMTKN-1-&lt;base36 SHA-256 of the CA certificate, 50 chars&gt;-&lt;base36 random secret, 25 chars&gt;.
 */
public final class SwarmCa {
  private static final SecureRandom RANDOM = new SecureRandom();

  /** certPem is public (it goes into the journal); the key stays in the data root, owner-only. */
  public record Root(String certPem, Path keyFile) {}

  private SwarmCa() {}

  public static Root create(Path certDir, String clusterId) {
    try {
      Files.createDirectories(certDir);
      KeyPairGenerator gen = KeyPairGenerator.getInstance("RSA");
      gen.initialize(2048, RANDOM);
      KeyPair keys = gen.generateKeyPair();
      X500Name name = new X500Name("CN=swarm-ca,O=" + clusterId);
      Instant now = Instant.now();
      JcaX509v3CertificateBuilder builder = new JcaX509v3CertificateBuilder(name, new BigInteger(64, RANDOM),
          Date.from(now.minus(Duration.ofHours(1))), Date.from(now.plus(Duration.ofDays(20 * 365))), name,
          keys.getPublic());
      builder.addExtension(Extension.basicConstraints, true, new BasicConstraints(true));
      builder.addExtension(Extension.keyUsage, true, new KeyUsage(KeyUsage.keyCertSign | KeyUsage.cRLSign));
      X509CertificateHolder cert =
          builder.build(new JcaContentSignerBuilder("SHA256withRSA").build(keys.getPrivate()));
      String certPem = pem(cert);
      Path keyFile = certDir.resolve("swarm-root-ca.key");
      writeOwnerOnly(keyFile, pem(keys.getPrivate()));
      writeOwnerOnly(certDir.resolve("swarm-root-ca.crt"), certPem);
      return new Root(certPem, keyFile);
    } catch (GeneralSecurityException | OperatorCreationException | IOException e) {
      throw new IllegalStateException("cannot create the swarm CA: " + e.getMessage(), e);
    }
  }

  public static String joinToken(String caCertPem) {
    try {
      byte[] digest = MessageDigest.getInstance("SHA-256").digest(caCertPem.getBytes(StandardCharsets.UTF_8));
      byte[] secret = new byte[16];
      RANDOM.nextBytes(secret);
      return "SWMTKN-1-" + Ids.base36(digest, 50) + "-" + Ids.base36(secret, 25);
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException(e);
    }
  }

  private static String pem(Object o) throws IOException {
    StringWriter out = new StringWriter();
    try (JcaPEMWriter w = new JcaPEMWriter(out)) {
      w.writeObject(o);
    }
    return out.toString();
  }

  private static void writeOwnerOnly(Path file, String content) throws IOException {
    Files.deleteIfExists(file);
    Files.createFile(file, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------")));
    Files.writeString(file, content, StandardOpenOption.TRUNCATE_EXISTING);
  }
}
