package dev.swarmd.ingress;

import dev.swarmd.protocol.IngressRoute;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.DataInputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.apache.pekko.actor.testkit.typed.javadsl.ActorTestKit;
import org.apache.pekko.actor.testkit.typed.javadsl.TestProbe;
import org.apache.pekko.actor.typed.ActorRef;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ProxyProtocolTest {
  private static final ActorTestKit testKit = ActorTestKit.create();
  private static final byte[] SIGNATURE = {
      0x0D, 0x0A, 0x0D, 0x0A, 0x00, 0x0D, 0x0A, 0x51, 0x55, 0x49, 0x54, 0x0A};
  /** The client connects from another loopback address, so that source and destination differ. */
  private static final String CLIENT_HOST = "127.0.0.5";

  private final List<AutoCloseable> resources = new ArrayList<>();
  private ActorRef<Ingress.Command> ingress;

  @BeforeEach
  void startIngress() {
    ingress = testKit.spawn(Ingress.create(Net.HOST));
  }

  @AfterEach
  void stop() throws Exception {
    testKit.stop(ingress);
    for (AutoCloseable r : resources) {
      r.close();
    }
  }

  @AfterAll
  static void shutdown() {
    testKit.shutdownTestKit();
  }

  @Test
  void encodesIpv4ByteForByte() {
    ByteBuffer header = ProxyHeader.v2(new InetSocketAddress("10.1.2.3", 0xABCD),
        new InetSocketAddress("192.168.0.1", 443));
    byte[] expected = {
        0x0D, 0x0A, 0x0D, 0x0A, 0x00, 0x0D, 0x0A, 0x51, 0x55, 0x49, 0x54, 0x0A,
        0x21, 0x11, 0x00, 0x0C,
        10, 1, 2, 3,
        (byte) 192, (byte) 168, 0, 1,
        (byte) 0xAB, (byte) 0xCD,
        0x01, (byte) 0xBB};
    assertArrayEquals(expected, bytes(header));
  }

  @Test
  void encodesIpv6AndMapsIpv4IntoItWhenFamiliesDiffer() {
    byte[] v6 = bytes(ProxyHeader.v2(new InetSocketAddress("::1", 1000), new InetSocketAddress("fe80::2", 2000)));
    assertEquals(16 + 36, v6.length);
    assertEquals(0x21, v6[12]);
    assertEquals(0x21, v6[13]);
    assertEquals(36, ((v6[14] & 0xFF) << 8) | (v6[15] & 0xFF));
    assertEquals(1, v6[16 + 15]);
    assertEquals((byte) 0xFE, v6[32]);

    byte[] mixed = bytes(ProxyHeader.v2(new InetSocketAddress("10.0.0.7", 1000), new InetSocketAddress("::1", 2000)));
    assertEquals(0x21, mixed[13]);
    byte[] mapped = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, (byte) 0xFF, (byte) 0xFF, 10, 0, 0, 7};
    byte[] source = new byte[16];
    System.arraycopy(mixed, 16, source, 0, 16);
    assertArrayEquals(mapped, source);
  }

  @Test
  void sendsTheHeaderFirstOnEachConnection() throws Exception {
    CompletableFuture<byte[]> seen = new CompletableFuture<>();
    TcpBackend backend = new TcpBackend("pp", socket -> {
      DataInputStream in = new DataInputStream(socket.getInputStream());
      byte[] header = new byte[16 + 12];
      in.readFully(header);
      seen.complete(header);
      byte[] rest = in.readAllBytes();
      OutputStream out = socket.getOutputStream();
      out.write(rest);
    });
    resources.add(backend);
    int port = Net.freeTcpPort();
    setRoutes(new IngressRoute(port, "tcp", "web", true, List.of(backend.backend())));

    try (Socket client = new Socket()) {
      client.bind(new InetSocketAddress(CLIENT_HOST, 0));
      client.connect(new InetSocketAddress(Net.HOST, port), 2000);
      client.setSoTimeout(5000);
      client.getOutputStream().write("payload".getBytes(StandardCharsets.US_ASCII));
      client.shutdownOutput();
      assertEquals("payload", new String(client.getInputStream().readAllBytes(), StandardCharsets.US_ASCII));

      ByteBuffer h = ByteBuffer.wrap(seen.get(5, TimeUnit.SECONDS));
      byte[] signature = new byte[12];
      h.get(signature);
      assertArrayEquals(SIGNATURE, signature);
      assertEquals(0x21, h.get(), "version 2, PROXY command");
      assertEquals(0x11, h.get(), "TCP over IPv4");
      assertEquals(12, h.getShort());
      byte[] src = new byte[4];
      byte[] dst = new byte[4];
      h.get(src).get(dst);
      assertEquals(InetAddress.getByName(CLIENT_HOST), InetAddress.getByAddress(src));
      assertEquals(InetAddress.getByName(Net.HOST), InetAddress.getByAddress(dst));
      assertEquals(client.getLocalPort(), h.getShort() & 0xFFFF);
      assertEquals(port, h.getShort() & 0xFFFF);
    }
  }

  @Test
  void haproxyAcceptsTheHeader(@TempDir Path dir) throws Exception {
    assumeTrue(haproxyPresent(), "haproxy is not installed");
    int haproxyPort = Net.freeTcpPort();
    Path config = dir.resolve("haproxy.cfg");
    Files.writeString(config, String.join("\n",
        "global",
        "  nbthread 1",
        "defaults",
        "  mode http",
        "  timeout connect 2s",
        "  timeout client 5s",
        "  timeout server 5s",
        "frontend fe",
        "  bind " + Net.HOST + ":" + haproxyPort + " accept-proxy",
        "  http-request return status 200 content-type text/plain lf-string \"%[src]:%[src_port] %[dst]:%[dst_port]\"",
        ""));
    Process haproxy = new ProcessBuilder("haproxy", "-db", "-f", config.toString())
        .redirectErrorStream(true)
        .redirectOutput(dir.resolve("haproxy.log").toFile())
        .start();
    resources.add(() -> {
      haproxy.destroy();
      haproxy.waitFor(5, TimeUnit.SECONDS);
    });
    Net.await(Duration.ofSeconds(10), () -> !Net.refuses(haproxyPort));

    int port = Net.freeTcpPort();
    setRoutes(new IngressRoute(port, "tcp", "web", true, List.of(new IngressRoute.Backend("t1", Net.HOST, haproxyPort))));

    try (Socket client = new Socket()) {
      client.bind(new InetSocketAddress(CLIENT_HOST, 0));
      client.connect(new InetSocketAddress(Net.HOST, port), 2000);
      client.setSoTimeout(5000);
      client.getOutputStream().write("GET / HTTP/1.0\r\nHost: test\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
      String response = new String(client.getInputStream().readAllBytes(), StandardCharsets.US_ASCII);
      assertTrue(response.matches("(?s)HTTP/1\\.[01] 200 .*"), response + "\nhaproxy said: " + log(dir));
      String body = response.substring(response.indexOf("\r\n\r\n") + 4).trim();
      assertEquals(CLIENT_HOST + ":" + client.getLocalPort() + " " + Net.HOST + ":" + port, body);
    }
  }

  private static boolean haproxyPresent() {
    try {
      Process p = new ProcessBuilder("haproxy", "-v").redirectErrorStream(true).start();
      p.getInputStream().readAllBytes();
      return p.waitFor(10, TimeUnit.SECONDS) && p.exitValue() == 0;
    } catch (IOException e) {
      return false;
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return false;
    }
  }

  private static String log(Path dir) throws IOException {
    return Files.readString(dir.resolve("haproxy.log"));
  }

  private static byte[] bytes(ByteBuffer buffer) {
    byte[] b = new byte[buffer.remaining()];
    buffer.duplicate().get(b);
    return b;
  }

  private void setRoutes(IngressRoute... routes) {
    ingress.tell(new Ingress.SetRoutes(List.of(routes)));
    TestProbe<Ingress.Status> probe = testKit.createTestProbe();
    ingress.tell(new Ingress.GetStatus(probe.ref()));
    probe.receiveMessage();
  }
}
