package dev.swarmd.ingress;

import dev.swarmd.protocol.IngressRoute;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.SocketException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.apache.pekko.actor.testkit.typed.javadsl.ActorTestKit;
import org.apache.pekko.actor.testkit.typed.javadsl.LoggingTestKit;
import org.apache.pekko.actor.testkit.typed.javadsl.TestProbe;
import org.apache.pekko.actor.typed.ActorRef;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

class IngressTcpTest {
  private static final ActorTestKit testKit = ActorTestKit.create();
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
  void spreadsConnectionsRoundRobin() throws Exception {
    TcpBackend a = lines("a");
    TcpBackend b = lines("b");
    int port = Net.freeTcpPort();
    setRoutes(route(port, a.backend(), b.backend()));

    List<String> seen = new ArrayList<>();
    for (int i = 0; i < 4; i++) {
      try (LineClient c = new LineClient(port)) {
        seen.add(c.ask("hello " + i));
      }
    }
    assertEquals(List.of("a:hello 0", "b:hello 1", "a:hello 2", "b:hello 3"), seen);
  }

  @Test
  void triesTheNextBackendWhenOneRefuses() throws Exception {
    IngressRoute.Backend down = new IngressRoute.Backend("task-down", Net.HOST, Net.freeTcpPort());
    TcpBackend b = lines("b");
    int port = Net.freeTcpPort();
    setRoutes(route(port, down, b.backend()));

    for (int i = 0; i < 4; i++) {
      try (LineClient c = new LineClient(port)) {
        assertEquals("b:try " + i, c.ask("try " + i));
      }
    }
  }

  @Test
  void closesTheClientWhenNoBackendAnswers() throws Exception {
    int port = Net.freeTcpPort();
    setRoutes(route(port, new IngressRoute.Backend("t1", Net.HOST, Net.freeTcpPort()),
        new IngressRoute.Backend("t2", Net.HOST, Net.freeTcpPort())));

    assertClosedByPeer(port);
  }

  @Test
  void connectTimeoutMovesOnToTheNextBackend() throws Exception {
    // A listener whose accept queue is full drops SYNs, so connecting to it hangs.
    ServerSocket stuck = new ServerSocket(0, 1, InetAddress.getByName(Net.HOST));
    resources.add(stuck);
    List<Socket> fillers = new ArrayList<>();
    for (int i = 0; i < 4; i++) {
      Socket f = new Socket();
      try {
        f.connect(stuck.getLocalSocketAddress(), 300);
        fillers.add(f);
        resources.add(f);
      } catch (IOException e) {
        f.close();
        break;
      }
    }
    TcpBackend b = lines("b");
    int port = Net.freeTcpPort();
    setRoutes(route(port, new IngressRoute.Backend("stuck", Net.HOST, stuck.getLocalPort()), b.backend()));

    long start = System.nanoTime();
    try (LineClient c = new LineClient(port)) {
      assertEquals("b:late", c.ask("late"));
    }
    long millis = Duration.ofNanos(System.nanoTime() - start).toMillis();
    assertTrue(millis >= 1500 && millis < 4000, "answered after " + millis + " ms");
  }

  @Test
  void passesHalfCloseAlong() throws Exception {
    byte[] reply = randomBytes(3 << 20);
    TcpBackend backend = backend(new TcpBackend("half", socket -> {
      long received = socket.getInputStream().transferTo(OutputStream.nullOutputStream());
      OutputStream out = socket.getOutputStream();
      out.write(("" + received + "\n").getBytes(StandardCharsets.US_ASCII));
      out.write(reply);
      out.flush();
    }));
    int port = Net.freeTcpPort();
    setRoutes(route(port, backend.backend()));

    byte[] request = randomBytes(1 << 20);
    try (Socket s = Net.connect(port)) {
      s.getOutputStream().write(request);
      s.shutdownOutput();
      byte[] all = s.getInputStream().readAllBytes();
      String expectedHead = request.length + "\n";
      assertEquals(expectedHead, new String(all, 0, expectedHead.length(), StandardCharsets.US_ASCII));
      byte[] body = new byte[all.length - expectedHead.length()];
      System.arraycopy(all, expectedHead.length(), body, 0, body.length);
      assertArrayEquals(reply, body);
    }
  }

  @Test
  void carriesLargeTransfersBothWaysAtOnce() throws Exception {
    TcpBackend echo = backend(new TcpBackend("echo", socket -> {
      socket.getInputStream().transferTo(socket.getOutputStream());
      socket.shutdownOutput();
    }));
    int port = Net.freeTcpPort();
    setRoutes(route(port, echo.backend()));

    byte[] data = randomBytes(16 << 20);
    try (Socket s = Net.connect(port)) {
      CompletableFuture<Void> writer = CompletableFuture.runAsync(() -> {
        try {
          s.getOutputStream().write(data);
          s.shutdownOutput();
        } catch (IOException e) {
          throw new UncheckedIOException(e);
        }
      });
      byte[] back = s.getInputStream().readAllBytes();
      writer.get(10, TimeUnit.SECONDS);
      assertArrayEquals(data, back);
    }
  }

  @Test
  void leavesNoSocketOpenOnceConnectionsEnd() throws Exception {
    TcpBackend a = lines("a");
    int port = Net.freeTcpPort();
    setRoutes(route(port, a.backend()));
    try (LineClient warmUp = new LineClient(port)) {
      warmUp.ask("warm");
    }
    long before = openFiles();

    for (int i = 0; i < 100; i++) {
      try (LineClient c = new LineClient(port)) {
        assertEquals("a:" + i, c.ask("" + i));
      }
    }
    Net.await(Duration.ofSeconds(5), () -> openFiles() <= before + 2);
  }

  @Test
  void swapsBackendsWithoutCuttingEstablishedConnections() throws Exception {
    TcpBackend a = lines("a");
    TcpBackend b = lines("b");
    int port = Net.freeTcpPort();
    setRoutes(route(port, a.backend()));

    try (LineClient old = new LineClient(port)) {
      assertEquals("a:1", old.ask("1"));
      setRoutes(route(port, b.backend()));
      try (LineClient fresh = new LineClient(port)) {
        assertEquals("b:2", fresh.ask("2"));
      }
      assertEquals("a:3", old.ask("3"));
      Ingress.Status status = status();
      assertEquals(List.of(new Ingress.Bound(port, "tcp", "web", 1, false)), status.bound());
    }
  }

  @Test
  void unbindsRemovedRoutes() throws Exception {
    TcpBackend a = lines("a");
    int kept = Net.freeTcpPort();
    int removed = Net.freeTcpPort();
    setRoutes(route(kept, a.backend()), route(removed, a.backend()));
    try (LineClient c = new LineClient(removed)) {
      assertEquals("a:x", c.ask("x"));
    }
    try (LineClient inFlight = new LineClient(removed)) {
      assertEquals("a:before", inFlight.ask("before"));
      setRoutes(route(kept, a.backend()));

      Net.await(Duration.ofSeconds(3), () -> Net.refuses(removed));
      assertEquals("a:after", inFlight.ask("after"));
    }
    assertEquals(List.of(new Ingress.Bound(kept, "tcp", "web", 1, false)), status().bound());
    try (LineClient c = new LineClient(kept)) {
      assertEquals("a:y", c.ask("y"));
    }
  }

  @Test
  void reportsAPortInUseAndBindsItOnceFree() throws Exception {
    TcpBackend a = lines("a");
    int taken = Net.freeTcpPort();
    int free = Net.freeTcpPort();
    ServerSocket squatter = new ServerSocket(taken, 50, InetAddress.getByName(Net.HOST));
    IngressRoute[] routes = {route(taken, a.backend()), route(free, a.backend())};
    LoggingTestKit.warn("cannot bind " + Net.HOST + ":" + taken + "/tcp for service web")
        .withOccurrences(1)
        .expect(testKit.system(), () -> {
          setRoutes(routes);
          setRoutes(routes);
          return null;
        });

    Ingress.Status status = status();
    assertEquals(List.of(new Ingress.Bound(free, "tcp", "web", 1, false)), status.bound());
    assertEquals(1, status.failed().size());
    Ingress.Failed failed = status.failed().get(0);
    assertEquals(taken, failed.publishedPort());
    assertEquals("web", failed.serviceName());
    assertTrue(failed.error().contains("Address already in use"), failed.error());
    try (LineClient c = new LineClient(free)) {
      assertEquals("a:ok", c.ask("ok"));
    }

    squatter.close();
    setRoutes(routes);
    status = status();
    assertEquals(List.of(), status.failed());
    assertEquals(2, status.bound().size());
    try (LineClient c = new LineClient(taken)) {
      assertEquals("a:now", c.ask("now"));
    }
  }

  @Test
  void resetsConnectionsWhenThereIsNoBackend() throws Exception {
    int port = Net.freeTcpPort();
    setRoutes(route(port));

    assertClosedByPeer(port);
    assertEquals(List.of(new Ingress.Bound(port, "tcp", "web", 0, false)), status().bound());
  }

  /** Accepted, then closed at once: the reset may even beat the client's connect call home. */
  private static void assertClosedByPeer(int port) throws IOException {
    try (Socket s = Net.connect(port)) {
      assertEquals(-1, s.getInputStream().read());
    } catch (SocketException e) {
      assertTrue(e.getMessage().contains("reset"), e.getMessage());
    }
  }

  private IngressRoute route(int port, IngressRoute.Backend... backends) {
    return new IngressRoute(port, "tcp", "web", false, List.of(backends));
  }

  private void setRoutes(IngressRoute... routes) {
    ingress.tell(new Ingress.SetRoutes(List.of(routes)));
    status();
  }

  /** Also a barrier: the reply comes after every message sent before. */
  private Ingress.Status status() {
    TestProbe<Ingress.Status> probe = testKit.createTestProbe();
    ingress.tell(new Ingress.GetStatus(probe.ref()));
    return probe.receiveMessage();
  }

  private TcpBackend lines(String name) throws IOException {
    return backend(TcpBackend.lines(name));
  }

  private TcpBackend backend(TcpBackend b) {
    resources.add(b);
    return b;
  }

  private static long openFiles() {
    try (Stream<Path> fds = Files.list(Path.of("/proc/self/fd"))) {
      return fds.count();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  private static byte[] randomBytes(int n) {
    byte[] bytes = new byte[n];
    new Random(n).nextBytes(bytes);
    return bytes;
  }

  /** A line-at-a-time client; {@link #ask} waits for the answer. */
  private static final class LineClient implements AutoCloseable {
    private final Socket socket;
    private final BufferedReader in;

    LineClient(int port) throws IOException {
      socket = Net.connect(port);
      in = new BufferedReader(new InputStreamReader(socket.getInputStream(), StandardCharsets.UTF_8));
    }

    String ask(String line) throws IOException {
      socket.getOutputStream().write((line + "\n").getBytes(StandardCharsets.UTF_8));
      return in.readLine();
    }

    @Override
    public void close() throws IOException {
      socket.close();
    }
  }
}
