package dev.swarmd.ingress;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import org.junit.jupiter.api.Test;

class ConntrackTest {
  @Test
  void aTcpLineGivesItsOriginalTupleAndItsTarget() {
    Conntrack.Entry e = Conntrack.parse("ipv4     2 tcp      6 9 CLOSE src=127.0.0.1 dst=127.0.0.72 sport=40000 "
        + "dport=8101 src=127.0.0.71 dst=127.0.0.1 sport=32786 dport=40000 mark=0 zone=0 use=2");

    assertEquals(new Conntrack.Entry("tcp", "CLOSE", "127.0.0.1", 40000, "127.0.0.72", 8101, "127.0.0.71", 32786, 0),
        e);
  }

  @Test
  void udpHasNoStateAndOtherLinesAreSkipped() {
    Conntrack.Entry e = Conntrack.parse("ipv4 2 udp 17 29 src=127.0.0.1 dst=127.0.0.53 sport=5000 dport=53 "
        + "[UNREPLIED] src=127.0.0.53 dst=127.0.0.1 sport=53 dport=5000 mark=0 zone=3 use=2");

    assertEquals(new Conntrack.Entry("udp", "", "127.0.0.1", 5000, "127.0.0.53", 53, "127.0.0.53", 53, 3), e);
    assertNull(Conntrack.parse("ipv6 10 tcp 6 10 CLOSE src=::1 dst=::1 sport=1 dport=2 src=::1 dst=::1 sport=2 "
        + "dport=1 mark=0 use=2"));
    assertNull(Conntrack.parse("ipv4 2 icmp 1 29 src=10.0.0.1 dst=10.0.0.2 type=8 code=0 id=1 src=10.0.0.2 "
        + "dst=10.0.0.1 type=0 code=0 id=1 mark=0 use=1"));
  }

  @Test
  void theDeleteMessageCarriesTheOriginalTupleNested() throws Exception {
    byte[] msg = Conntrack.deleteMessage(
        new Conntrack.Entry("tcp", "CLOSE", "127.0.0.1", 40000, "127.0.0.72", 8101, "127.0.0.71", 32786, 0), 7);
    ByteBuffer b = ByteBuffer.wrap(msg).order(ByteOrder.nativeOrder());

    assertEquals(msg.length, b.getInt(0));
    assertEquals((1 << 8) | 2, b.getShort(4), "ctnetlink, IPCTNL_MSG_CT_DELETE");
    assertEquals(7, b.getInt(8));
    assertEquals(2, msg[16], "AF_INET");
    // CTA_TUPLE_ORIG { CTA_TUPLE_IP { src, dst }, CTA_TUPLE_PROTO { num, sport, dport } }
    assertEquals(4 + 4 + 2 * 8 + 4 + 8 + 8 + 8, b.getShort(20));
    assertEquals((short) 0x8001, b.getShort(22));
    assertEquals((short) 0x8001, b.getShort(26));
    assertEquals(127, msg[32]);
    assertEquals(72, msg[43]);
    assertEquals((short) 0x8002, b.getShort(46));
    assertEquals(6, msg[52], "TCP");
    assertEquals((byte) (40000 >>> 8), msg[60]);
    assertEquals((byte) (8101 >>> 8), msg[68]);
    assertEquals(72, msg.length);
  }
}
