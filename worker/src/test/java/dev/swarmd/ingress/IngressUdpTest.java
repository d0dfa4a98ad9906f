package dev.swarmd.ingress;

import dev.swarmd.protocol.IngressRoute;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.io.IOException;
import java.net.DatagramPacket;
import java.net.DatagramSocket;
import java.net.InetSocketAddress;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.apache.pekko.actor.testkit.typed.javadsl.ActorTestKit;
import org.apache.pekko.actor.testkit.typed.javadsl.TestProbe;
import org.apache.pekko.actor.typed.ActorRef;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

class IngressUdpTest {
  private static final ActorTestKit testKit = ActorTestKit.create();
  private static final Duration SHORT_IDLE = Duration.ofMillis(500);

  private final List<AutoCloseable> resources = new ArrayList<>();
  private ActorRef<Ingress.Command> ingress;

  @AfterEach
  void stop() throws Exception {
    if (ingress != null) {
      testKit.stop(ingress);
    }
    for (AutoCloseable r : resources) {
      r.close();
    }
  }

  @AfterAll
  static void shutdown() {
    testKit.shutdownTestKit();
  }

  @Test
  void repliesComeFromThePublishedAddress() throws Exception {
    start(Ingress.DEFAULT_UDP_FLOW_IDLE);
    UdpBackend a = backend("a");
    int port = Net.freeUdpPort();
    setRoutes(route(port, a.backend()));

    Client client = client();
    DatagramPacket reply = client.ask(port, "ping");
    assertEquals("a:ping", text(reply));
    assertEquals(new InetSocketAddress(Net.HOST, port), reply.getSocketAddress());
    assertEquals(List.of(new Ingress.Bound(port, "udp", "dns", 1, false)), status().bound());
  }

  @Test
  void newFlowsGoRoundRobinAndAFlowSticksToItsBackend() throws Exception {
    start(Ingress.DEFAULT_UDP_FLOW_IDLE);
    UdpBackend a = backend("a");
    UdpBackend b = backend("b");
    int port = Net.freeUdpPort();
    setRoutes(route(port, a.backend(), b.backend()));

    Client first = client();
    Client second = client();
    assertEquals("a:1", text(first.ask(port, "1")));
    assertEquals("b:2", text(second.ask(port, "2")));
    for (int i = 0; i < 5; i++) {
      assertEquals("a:again", text(first.ask(port, "again")));
      assertEquals("b:again", text(second.ask(port, "again")));
    }
    assertEquals(1, a.senders.stream().distinct().count(), "one flow socket per client");
  }

  @Test
  void idleFlowsExpire() throws Exception {
    start(SHORT_IDLE);
    UdpBackend a = backend("a");
    UdpBackend b = backend("b");
    int port = Net.freeUdpPort();
    setRoutes(route(port, a.backend(), b.backend()));

    Client client = client();
    assertEquals("a:1", text(client.ask(port, "1")));
    Thread.sleep(100);
    assertEquals("a:2", text(client.ask(port, "2")));
    Thread.sleep(SHORT_IDLE.toMillis() * 3);
    assertEquals("b:3", text(client.ask(port, "3")), "the idle flow was closed, a new one took the next backend");
  }

  @Test
  void aFlowMovesWhenItsBackendIsRemoved() throws Exception {
    start(Ingress.DEFAULT_UDP_FLOW_IDLE);
    UdpBackend a = backend("a");
    UdpBackend b = backend("b");
    UdpBackend c = backend("c");
    int port = Net.freeUdpPort();
    setRoutes(route(port, a.backend(), b.backend()));

    Client first = client();
    Client second = client();
    assertEquals("a:1", text(first.ask(port, "1")));
    assertEquals("b:1", text(second.ask(port, "1")));
    setRoutes(route(port, c.backend(), b.backend()));
    assertEquals("b:2", text(second.ask(port, "2")), "a flow to a backend still in the route stays");
    assertEquals("c:2", text(first.ask(port, "2")), "a flow to a removed backend starts over");
  }

  @Test
  void dropsDatagramsWhenThereIsNoBackend() throws Exception {
    start(Ingress.DEFAULT_UDP_FLOW_IDLE);
    int port = Net.freeUdpPort();
    setRoutes(route(port));

    Client client = client();
    client.socket.setSoTimeout(300);
    assertThrows(SocketTimeoutException.class, () -> client.ask(port, "anyone?"));
  }

  @Test
  void reportsAPortInUse() throws Exception {
    start(Ingress.DEFAULT_UDP_FLOW_IDLE);
    UdpBackend a = backend("a");
    int port = Net.freeUdpPort();
    DatagramSocket squatter = new DatagramSocket(new InetSocketAddress(Net.HOST, port));
    setRoutes(route(port, a.backend()));
    assertEquals(1, status().failed().size());

    squatter.close();
    setRoutes(route(port, a.backend()));
    assertEquals(List.of(), status().failed());
    assertEquals("a:up", text(client().ask(port, "up")));
  }

  private void start(Duration idle) {
    ingress = testKit.spawn(Ingress.create(Net.HOST, idle));
  }

  private UdpBackend backend(String name) throws IOException {
    UdpBackend b = new UdpBackend(name);
    resources.add(b);
    return b;
  }

  private Client client() throws IOException {
    Client c = new Client(new DatagramSocket(new InetSocketAddress(Net.HOST, 0)));
    c.socket.setSoTimeout(5000);
    resources.add(c.socket);
    return c;
  }

  private static IngressRoute route(int port, IngressRoute.Backend... backends) {
    return new IngressRoute(port, "udp", "dns", false, List.of(backends));
  }

  private void setRoutes(IngressRoute... routes) {
    ingress.tell(new Ingress.SetRoutes(List.of(routes)));
    status();
  }

  private Ingress.Status status() {
    TestProbe<Ingress.Status> probe = testKit.createTestProbe();
    ingress.tell(new Ingress.GetStatus(probe.ref()));
    return probe.receiveMessage();
  }

  private static String text(DatagramPacket p) {
    return new String(p.getData(), p.getOffset(), p.getLength(), StandardCharsets.UTF_8);
  }

  private record Client(DatagramSocket socket) {
    DatagramPacket ask(int port, String text) throws IOException {
      byte[] data = text.getBytes(StandardCharsets.UTF_8);
      socket.send(new DatagramPacket(data, data.length, new InetSocketAddress(Net.HOST, port)));
      DatagramPacket reply = new DatagramPacket(new byte[2048], 2048);
      socket.receive(reply);
      return reply;
    }
  }
}
