package dev.swarmd.ingress;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.swarmd.protocol.IngressRoute;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.net.DatagramPacket;
import java.net.DatagramSocket;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import org.apache.pekko.actor.testkit.typed.javadsl.ActorTestKit;
import org.apache.pekko.actor.typed.ActorRef;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The kernel path for real: iptables rules on a loopback address of the test's own, forwarding to
 * backends on 127.0.0.1. Skipped where iptables cannot be written (no CAP_NET_ADMIN).
 */
class KernelPathTest {
  private static final String NODE = "127.0.0.203";
  private static final ActorTestKit KIT = ActorTestKit.create();
  private KernelPath kernel;
  private final List<TcpBackend> backends = new ArrayList<>();

  @BeforeAll
  static void requireIptables() {
    Optional<KernelPath> probe = KernelPath.open(NODE, null);
    assumeTrue(probe.isPresent(), "iptables is not writable here");
    probe.get().close();
  }

  @AfterAll
  static void stopKit() {
    KIT.shutdownTestKit();
  }

  @BeforeEach
  void open() {
    kernel = KernelPath.open(NODE, null).orElseThrow();
  }

  @AfterEach
  void close() throws IOException {
    kernel.close();
    for (TcpBackend b : backends) {
      b.close();
    }
  }

  private TcpBackend backend(String name) throws IOException {
    TcpBackend b = TcpBackend.lines(name);
    backends.add(b);
    return b;
  }

  private static IngressRoute route(int port, List<IngressRoute.Backend> to) {
    return new IngressRoute(port, "tcp", "web", false, to);
  }

  /** The name of the backend that answered one connection to NODE:port. */
  private static String ask(int port) throws IOException {
    try (Socket s = new Socket()) {
      s.connect(new InetSocketAddress(NODE, port), 2000);
      s.setSoTimeout(5000);
      OutputStream out = s.getOutputStream();
      out.write("hi\n".getBytes(StandardCharsets.UTF_8));
      out.flush();
      String line = new BufferedReader(new InputStreamReader(s.getInputStream(), StandardCharsets.UTF_8)).readLine();
      return line.substring(0, line.indexOf(':'));
    }
  }

  private Ingress.Status status(ActorRef<Ingress.Command> ingress) {
    var probe = KIT.<Ingress.Status>createTestProbe();
    ingress.tell(new Ingress.GetStatus(probe.getRef()));
    return probe.receiveMessage();
  }

  @Test
  void connectionsGoRoundRobinThroughTheKernelAndTheTableFollowsTheRoutes() throws Exception {
    TcpBackend a = backend("a");
    TcpBackend b = backend("b");
    int port = Net.freeTcpPort();
    ActorRef<Ingress.Command> ingress = KIT.spawn(Ingress.create(NODE, kernel));
    ingress.tell(new Ingress.SetRoutes(List.of(route(port, List.of(a.backend(), b.backend())))));
    Net.await(Duration.ofSeconds(10), () -> !Net.refuses(NODE, port));

    List<String> seen = new ArrayList<>();
    for (int i = 0; i < 6; i++) {
      seen.add(ask(port));
    }
    assertEquals(3, seen.stream().filter("a"::equals).count(), seen.toString());
    assertEquals(3, seen.stream().filter("b"::equals).count(), seen.toString());
    assertEquals(List.of(new Ingress.Bound(port, "tcp", "web", 2, true)), status(ingress).bound());

    ingress.tell(new Ingress.SetRoutes(List.of(route(port, List.of(b.backend())))));
    Net.await(Duration.ofSeconds(10), () -> {
      try {
        Set<String> now = new HashSet<>();
        for (int i = 0; i < 4; i++) {
          now.add(ask(port));
        }
        return now.equals(Set.of("b"));
      } catch (IOException e) {
        return false;
      }
    });

    ingress.tell(new Ingress.SetRoutes(List.of()));
    Net.await(Duration.ofSeconds(10), () -> Net.refuses(NODE, port));
    KIT.stop(ingress);
  }

  @Test
  void aConnectionMadeKeepsItsBackendWhenTheTableChanges() throws Exception {
    TcpBackend a = backend("a");
    int port = Net.freeTcpPort();
    ActorRef<Ingress.Command> ingress = KIT.spawn(Ingress.create(NODE, kernel));
    ingress.tell(new Ingress.SetRoutes(List.of(route(port, List.of(a.backend())))));
    Net.await(Duration.ofSeconds(10), () -> !Net.refuses(NODE, port));
    try (Socket s = new Socket()) {
      s.connect(new InetSocketAddress(NODE, port), 2000);
      s.setSoTimeout(5000);
      BufferedReader in = new BufferedReader(new InputStreamReader(s.getInputStream(), StandardCharsets.UTF_8));
      s.getOutputStream().write("1\n".getBytes(StandardCharsets.UTF_8));
      assertEquals("a:1", in.readLine());

      ingress.tell(new Ingress.SetRoutes(List.of()));
      Net.await(Duration.ofSeconds(10), () -> Net.refuses(NODE, port));
      s.getOutputStream().write("2\n".getBytes(StandardCharsets.UTF_8));
      assertEquals("a:2", in.readLine(), "the connection in flight finishes");
    }
    KIT.stop(ingress);
  }

  @Test
  void aClientPortResetByATaskThatLeftTheTableReachesTheTasksLeft() throws Exception {
    TcpBackend resetter = new TcpBackend("r", socket -> {
      socket.setSoLinger(true, 0);
      socket.close();
    });
    backends.add(resetter);
    TcpBackend a = backend("a");
    int port = Net.freeTcpPort();
    int clientPort = Net.freeTcpPort();
    ActorRef<Ingress.Command> ingress = KIT.spawn(Ingress.create(NODE, kernel));
    ingress.tell(new Ingress.SetRoutes(List.of(route(port, List.of(resetter.backend())))));
    Net.await(Duration.ofSeconds(10), () -> !Net.refuses(NODE, port));
    try (Socket s = fromPort(clientPort)) {
      s.connect(new InetSocketAddress(NODE, port), 2000);
      s.setSoTimeout(5000);
      assertEquals(-1, readOrReset(s), "the task resets the connection");
    }

    ingress.tell(new Ingress.SetRoutes(List.of(route(port, List.of(a.backend())))));
    Net.await(Duration.ofSeconds(10), () -> status(ingress).bound().get(0).backends() == 1);
    Thread.sleep(1000);
    try (Socket s = fromPort(clientPort)) {
      s.connect(new InetSocketAddress(NODE, port), 2000);
      s.setSoTimeout(5000);
      s.getOutputStream().write("hi\n".getBytes(StandardCharsets.UTF_8));
      assertEquals("a:hi", new BufferedReader(new InputStreamReader(s.getInputStream(), StandardCharsets.UTF_8))
          .readLine(), "the same client port gets a task of the table, not the reset entry's");
    }
    KIT.stop(ingress);
  }

  private static Socket fromPort(int clientPort) throws IOException {
    Socket s = new Socket();
    s.setReuseAddress(true);
    s.bind(new InetSocketAddress("127.0.0.1", clientPort));
    return s;
  }

  private static int readOrReset(Socket s) {
    try {
      return s.getInputStream().read();
    } catch (IOException e) {
      return -1;
    }
  }

  @Test
  void udpFlowsGoRoundRobinAndAFlowWhoseTaskLeftMovesToOneLeft() throws Exception {
    UdpBackend a = new UdpBackend("a");
    UdpBackend b = new UdpBackend("b");
    int port = Net.freeUdpPort();
    ActorRef<Ingress.Command> ingress = KIT.spawn(Ingress.create(NODE, kernel));
    try (a; b; DatagramSocket one = udpClient(); DatagramSocket two = udpClient()) {
      ingress.tell(new Ingress.SetRoutes(List.of(new IngressRoute(port, "udp", "dns", false,
          List.of(a.backend(), b.backend())))));
      Net.await(Duration.ofSeconds(10), () -> !status(ingress).bound().isEmpty());
      Thread.sleep(500);
      String first = udpAsk(one, port, "1");
      String second = udpAsk(two, port, "2");
      assertEquals(Set.of("a", "b"), Set.of(first, second), "two flows, one per task");
      assertEquals(first, udpAsk(one, port, "3"), "a flow keeps its task");
      assertTrue(status(ingress).bound().get(0).kernel());

      IngressRoute.Backend left = first.equals("a") ? b.backend() : a.backend();
      ingress.tell(new Ingress.SetRoutes(List.of(new IngressRoute(port, "udp", "dns", false, List.of(left)))));
      String other = first.equals("a") ? "b" : "a";
      Net.await(Duration.ofSeconds(10), () -> {
        try {
          return udpAsk(one, port, "4").equals(other);
        } catch (IOException e) {
          return false;
        }
      });
    }
    KIT.stop(ingress);
  }

  private static DatagramSocket udpClient() throws IOException {
    DatagramSocket s = new DatagramSocket(new InetSocketAddress("127.0.0.1", 0));
    s.setSoTimeout(1000);
    return s;
  }

  /** The name of the backend that answered the datagram. */
  private static String udpAsk(DatagramSocket s, int port, String text) throws IOException {
    byte[] out = text.getBytes(StandardCharsets.UTF_8);
    s.send(new DatagramPacket(out, out.length, new InetSocketAddress(NODE, port)));
    DatagramPacket in = new DatagramPacket(new byte[512], 512);
    s.receive(in);
    String reply = new String(in.getData(), 0, in.getLength(), StandardCharsets.UTF_8);
    return reply.substring(0, reply.indexOf(':'));
  }

  @Test
  void proxyProtocolPortsStayInUserSpace() throws Exception {
    TcpBackend a = backend("a");
    int port = Net.freeTcpPort();
    ActorRef<Ingress.Command> ingress = KIT.spawn(Ingress.create(NODE, kernel));
    ingress.tell(new Ingress.SetRoutes(List.of(new IngressRoute(port, "tcp", "web", true, List.of(a.backend())))));

    Net.await(Duration.ofSeconds(10), () -> !status(ingress).bound().isEmpty());
    assertFalse(status(ingress).bound().get(0).kernel());
    KIT.stop(ingress);
  }

  @Test
  void aStaleIngressCannotWipeTheTableOfTheOneAfterIt() throws Exception {
    TcpBackend a = backend("a");
    int port = Net.freeTcpPort();
    ActorRef<Ingress.Command> old = KIT.spawn(Ingress.create(NODE, kernel));
    ActorRef<Ingress.Command> current = KIT.spawn(Ingress.create(NODE, kernel));
    current.tell(new Ingress.SetRoutes(List.of(route(port, List.of(a.backend())))));
    Net.await(Duration.ofSeconds(10), () -> !Net.refuses(NODE, port));

    KIT.stop(old);
    Thread.sleep(300);
    assertEquals("a", ask(port));
    KIT.stop(current);
    Net.await(Duration.ofSeconds(10), () -> Net.refuses(NODE, port));
    assertTrue(Net.refuses(NODE, port));
  }
}
