package dev.swarmd.swarm;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayInputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermission;
import java.security.KeyPair;
import java.security.cert.CertificateFactory;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class SwarmCaTest {
  @TempDir
  Path dir;

  @Test
  void joinTokensHaveSwarmkitsFormAndNameTheCa() {
    SwarmCa ca = SwarmCa.create(dir, "cluster1");
    String token = SwarmCa.joinToken(ca.certPem());

    assertTrue(token.matches("SWMTKN-1-[0-9a-z]{50}-[0-9a-z]{25}"), token);
    assertEquals(SwarmCa.digest(ca.certPem()), token.substring(9, 59));
    assertNotEquals(token, SwarmCa.joinToken(ca.certPem()), "each token has a secret of its own");
  }

  @Test
  void keysAreOwnerOnly() throws Exception {
    SwarmCa.create(dir, "cluster1");
    KeyPair node = SwarmCa.newKeyPair();
    SwarmCa.writeNodeIdentity(dir.resolve("node"), node.getPrivate(), "cert", "ca");

    Set<PosixFilePermission> ownerOnly = Set.of(PosixFilePermission.OWNER_READ, PosixFilePermission.OWNER_WRITE);
    assertEquals(ownerOnly, Files.getPosixFilePermissions(dir.resolve(SwarmCa.CA_KEY)));
    assertEquals(ownerOnly, Files.getPosixFilePermissions(dir.resolve("node").resolve(SwarmCa.NODE_KEY)));
  }

  @Test
  void nodeCertificatesAreSignedByTheCaAndNameNodeRoleAndSwarm() throws Exception {
    SwarmCa.create(dir, "cluster1");
    SwarmCa ca = SwarmCa.load(dir);
    KeyPair node = SwarmCa.newKeyPair();

    X509Certificate cert = x509(ca.issue(node.getPublic(), "node1", "worker", "cluster1", "127.0.0.2",
        Duration.ofDays(90)));

    cert.verify(x509(ca.certPem()).getPublicKey());
    String subject = cert.getSubjectX500Principal().getName();
    assertTrue(subject.contains("CN=node1") && subject.contains("OU=swarm-worker") && subject.contains("O=cluster1"),
        subject);
    assertTrue(cert.getSubjectAlternativeNames().contains(List.of(2, SwarmCa.swarmName("cluster1"))));
    assertTrue(cert.getSubjectAlternativeNames().contains(List.of(7, "127.0.0.2")));
  }

  @Test
  void aCertificateFromAnotherCaDoesNotVerify() throws Exception {
    SwarmCa ours = SwarmCa.create(dir.resolve("a"), "a");
    SwarmCa theirs = SwarmCa.create(dir.resolve("b"), "b");
    X509Certificate cert = x509(theirs.issue(SwarmCa.newKeyPair().getPublic(), "n", "worker", "b", null,
        Duration.ofDays(1)));

    assertThrows(java.security.SignatureException.class, () -> cert.verify(x509(ours.certPem()).getPublicKey()));
  }

  private static X509Certificate x509(String pem) throws Exception {
    return (X509Certificate) CertificateFactory.getInstance("X.509")
        .generateCertificate(new ByteArrayInputStream(pem.getBytes(StandardCharsets.UTF_8)));
  }
}
