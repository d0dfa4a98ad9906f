package dev.swarmd.dns;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.swarmd.protocol.ServiceName;
import java.io.IOException;
import java.net.DatagramPacket;
import java.net.DatagramSocket;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.stream.IntStream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.xbill.DNS.ARecord;
import org.xbill.DNS.DClass;
import org.xbill.DNS.Flags;
import org.xbill.DNS.Message;
import org.xbill.DNS.Name;
import org.xbill.DNS.OPTRecord;
import org.xbill.DNS.Rcode;
import org.xbill.DNS.Record;
import org.xbill.DNS.Section;
import org.xbill.DNS.SimpleResolver;
import org.xbill.DNS.Type;

class DnsServerTest {
  private static final String HOST = "127.0.0.1";
  private static final InetSocketAddress ANY_PORT = new InetSocketAddress(HOST, 0);

  private static final ServiceName WEB = new ServiceName("web", "web-id", "vip", "10.0.0.2", List.of("10.0.1.1"));
  private static final ServiceName DB = new ServiceName("db", "db-id", "dnsrr", null, List.of("10.0.2.1", "10.0.2.2"));
  private static final ServiceName IDLE = new ServiceName("idle", "idle-id", "dnsrr", null, List.of());
  private static final ServiceName BIG = new ServiceName("big", "big-id", "dnsrr", null,
      IntStream.range(0, 100).mapToObj(i -> "10.1." + (i / 250) + "." + (i % 250 + 1)).toList());
  private static final DnsTable TABLE = DnsTable.of(List.of(WEB, DB, IDLE, BIG));

  private final List<AutoCloseable> resources = new ArrayList<>();

  @AfterEach
  void closeAll() throws Exception {
    for (AutoCloseable r : resources) {
      r.close();
    }
  }

  @Test
  void answersOurNamesOverUdp() throws Exception {
    DnsServer server = start(TABLE, List.of());
    assertTrue(server.address().getPort() > 0);

    Message response = resolver(server, false).send(query("web.", Type.A));
    assertEquals(Rcode.NOERROR, response.getRcode());
    assertTrue(response.getHeader().getFlag(Flags.QR));
    assertTrue(response.getHeader().getFlag(Flags.AA));
    assertTrue(response.getHeader().getFlag(Flags.RA));
    assertTrue(response.getHeader().getFlag(Flags.RD));
    assertEquals(Name.fromString("web."), response.getQuestion().getName());
    List<Record> answers = response.getSection(Section.ANSWER);
    assertEquals(List.of("10.0.0.2"), addresses(response));
    assertEquals(0, answers.get(0).getTTL());
    assertEquals(List.of("10.0.1.1"), addresses(resolver(server, false).send(query("TASKS.Web.", Type.A))));
  }

  @Test
  void ourNamesWithoutSuchRecordsGetNodata() throws Exception {
    DnsServer server = start(TABLE, List.of());
    SimpleResolver resolver = resolver(server, false);
    for (Message q : List.of(query("web.", Type.AAAA), query("web.", Type.TXT), query("db.", Type.SRV),
        query("idle.", Type.A), query("tasks.idle.", Type.A))) {
      Message response = resolver.send(q);
      assertEquals(Rcode.NOERROR, response.getRcode(), q.getQuestion().toString());
      assertTrue(response.getHeader().getFlag(Flags.AA));
      assertTrue(response.getSection(Section.ANSWER).isEmpty());
    }
  }

  @Test
  void dnsrrAnswersRotateAcrossQueries() throws Exception {
    DnsServer server = start(TABLE, List.of());
    SimpleResolver resolver = resolver(server, false);
    List<String> first = addresses(resolver.send(query("db.", Type.A)));
    List<String> second = addresses(resolver.send(query("db.", Type.A)));
    assertEquals(2, first.size());
    assertNotEquals(first, second);
    assertEquals(first, addresses(resolver.send(query("db.", Type.A))));
  }

  @Test
  void answersOverTcp() throws Exception {
    DnsServer server = start(TABLE, List.of());
    SimpleResolver resolver = resolver(server, true);
    assertEquals(List.of("10.0.0.2"), addresses(resolver.send(query("web.", Type.A))));
    assertEquals(2, addresses(resolver.send(query("db-id.", Type.A))).size());
  }

  @Test
  void malformedUdpPacketIsDroppedAndServingGoesOn() throws Exception {
    DnsServer server = start(TABLE, List.of());
    try (DatagramSocket socket = new DatagramSocket()) {
      socket.send(new DatagramPacket(new byte[] {1, 2, 3}, 3, server.address()));
      byte[] junk = new byte[14];
      junk[5] = 1; // claims one question, then runs out
      socket.send(new DatagramPacket(junk, junk.length, server.address()));
    }
    assertEquals(List.of("10.0.0.2"), addresses(resolver(server, false).send(query("web.", Type.A))));
  }

  @Test
  void malformedTcpQueryClosesTheConnection() throws Exception {
    DnsServer server = start(TABLE, List.of());
    try (Socket socket = new Socket()) {
      socket.connect(server.address(), 2000);
      socket.setSoTimeout(5000);
      socket.getOutputStream().write(new byte[] {0, 3, 1, 2, 3});
      assertEquals(-1, socket.getInputStream().read());
    }
    assertEquals(List.of("10.0.0.2"), addresses(resolver(server, true).send(query("web.", Type.A))));
  }

  @Test
  void bigAnswerIsTruncatedOverUdpAndWholeOverTcp() throws Exception {
    DnsServer server = start(TABLE, List.of());
    SimpleResolver udp = resolver(server, false);
    udp.setEDNS(-1, 0, 0, List.of());
    udp.setIgnoreTruncation(true);
    Message truncated = udp.send(query("big.", Type.A));
    assertTrue(truncated.getHeader().getFlag(Flags.TC));

    byte[] raw = ask(server.address(), query("big.", Type.A).toWire());
    assertTrue(raw.length <= 512, "udp answer of " + raw.length + " bytes");

    Message withEdns = query("big.", Type.A);
    withEdns.addRecord(new OPTRecord(4096, 0, 0), Section.ADDITIONAL);
    byte[] larger = ask(server.address(), withEdns.toWire());
    assertTrue(larger.length <= Responder.EDNS_UDP_SIZE, "udp answer of " + larger.length + " bytes");
    assertTrue(new Message(larger).getHeader().getFlag(Flags.TC));
    assertEquals(Responder.EDNS_UDP_SIZE, new Message(larger).getOPT().getPayloadSize());

    Message whole = resolver(server, true).send(query("big.", Type.A));
    assertFalse(whole.getHeader().getFlag(Flags.TC));
    assertEquals(100, whole.getSection(Section.ANSWER).size());
  }

  @Test
  void forwardsOtherNamesWithTheClientsId() throws Exception {
    ServiceName ext = new ServiceName("ext.example", "ext-id", "vip", "10.5.5.5", List.of());
    DnsServer upstream = start(DnsTable.of(List.of(ext)), List.of());
    DnsServer server = start(TABLE, List.of(upstream.address()));

    Message q = query("ext.example.", Type.A);
    q.getHeader().setID(0x1234);
    Message relayed = new Message(ask(server.address(), q.toWire()));
    assertEquals(0x1234, relayed.getHeader().getID());
    assertEquals(Rcode.NOERROR, relayed.getRcode());
    assertEquals(List.of("10.5.5.5"), addresses(relayed));

    assertEquals(List.of("10.5.5.5"), addresses(resolver(server, true).send(query("ext.example.", Type.A))));
    Message unknown = resolver(server, false).send(query("nowhere.", Type.A));
    assertEquals(Rcode.SERVFAIL, unknown.getRcode());
  }

  @Test
  void silentUpstreamMeansServfail() throws Exception {
    DatagramSocket silent = new DatagramSocket(ANY_PORT);
    resources.add(silent);
    DnsServer server = start(TABLE, List.of((InetSocketAddress) silent.getLocalSocketAddress()));
    long started = System.nanoTime();
    Message response = resolver(server, false).send(query("example.com.", Type.A));
    assertEquals(Rcode.SERVFAIL, response.getRcode());
    assertTrue(System.nanoTime() - started >= Forwarder.TIMEOUT.toNanos() / 2);
    // Our names do not wait for the stuck forward.
    assertEquals(List.of("10.0.0.2"), addresses(resolver(server, false).send(query("web.", Type.A))));
  }

  @Test
  void noUpstreamMeansServfail() throws Exception {
    DnsServer server = start(TABLE, List.of());
    Message response = resolver(server, false).send(query("example.com.", Type.A));
    assertEquals(Rcode.SERVFAIL, response.getRcode());
    assertEquals(Name.fromString("example.com."), response.getQuestion().getName());
  }

  @Test
  void newTableTakesOverAtOnce() throws Exception {
    DnsServer server = start(DnsTable.EMPTY, List.of());
    assertEquals(Rcode.SERVFAIL, resolver(server, false).send(query("web.", Type.A)).getRcode());
    server.setTable(TABLE);
    assertEquals(List.of("10.0.0.2"), addresses(resolver(server, false).send(query("web.", Type.A))));
  }

  @Test
  void portInUseFailsAndLeavesNothingBound() throws Exception {
    try (ServerSocket taken = new ServerSocket(0, 1, InetAddress.getByName(HOST))) {
      InetSocketAddress address = new InetSocketAddress(HOST, taken.getLocalPort());
      IOException e = assertThrows(IOException.class, () -> DnsServer.start(address, TABLE, List.of()));
      assertTrue(e.getMessage().contains("cannot bind"), e.getMessage());
      new DatagramSocket(address).close();
    }
  }

  @Test
  void closeReleasesThePort() throws Exception {
    DnsServer server = DnsServer.start(ANY_PORT, TABLE, List.of());
    InetSocketAddress address = server.address();
    server.close();
    server.close();
    try (DnsServer again = DnsServer.start(address, TABLE, List.of())) {
      assertEquals(address, again.address());
    }
  }

  @Test
  void resolvConfGivesNameserversButNotTheServerItself(@TempDir Path dir) throws Exception {
    Path file = dir.resolve("resolv.conf");
    Files.writeString(file, String.join("\n",
        "# a comment", "search example.com", "nameserver 10.0.0.53", "nameserver 127.0.0.11",
        "nameserver not-an-ip", "nameserver 2001:db8::1", "nameserver 10.0.0.53", "options ndots:0", ""));
    List<InetSocketAddress> others =
        List.of(new InetSocketAddress("10.0.0.53", 53), new InetSocketAddress("2001:db8::1", 53));
    assertEquals(others, ResolvConf.nameservers(file, new InetSocketAddress("127.0.0.11", 53)));
    // Bound to every address, loopback is the server itself.
    assertEquals(others, ResolvConf.nameservers(file, new InetSocketAddress("0.0.0.0", 53)));
    assertEquals(3, ResolvConf.nameservers(file, new InetSocketAddress("127.0.0.11", 5353)).size());
  }

  private DnsServer start(DnsTable table, List<InetSocketAddress> upstreams) throws IOException {
    DnsServer server = DnsServer.start(ANY_PORT, table, upstreams);
    resources.add(server);
    return server;
  }

  private static SimpleResolver resolver(DnsServer server, boolean tcp) {
    SimpleResolver resolver = new SimpleResolver(server.address());
    resolver.setTimeout(Duration.ofSeconds(5));
    resolver.setTCP(tcp);
    return resolver;
  }

  private static Message query(String name, int type) throws IOException {
    return Message.newQuery(Record.newRecord(Name.fromString(name), type, DClass.IN));
  }

  /** One raw UDP exchange, for what a resolver would hide or retry. */
  private static byte[] ask(InetSocketAddress server, byte[] query) throws IOException {
    try (DatagramSocket socket = new DatagramSocket()) {
      socket.setSoTimeout(5000);
      socket.send(new DatagramPacket(query, query.length, server));
      byte[] buffer = new byte[65535];
      DatagramPacket packet = new DatagramPacket(buffer, buffer.length);
      socket.receive(packet);
      byte[] reply = Arrays.copyOf(buffer, packet.getLength());
      assertArrayEquals(new byte[] {query[0], query[1]}, new byte[] {reply[0], reply[1]});
      return reply;
    }
  }

  private static List<String> addresses(Message response) {
    return response.getSection(Section.ANSWER).stream()
        .map(r -> ((ARecord) r).getAddress().getHostAddress())
        .toList();
  }
}
