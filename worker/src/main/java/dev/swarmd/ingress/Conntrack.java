package dev.swarmd.ingress;

import com.sun.jna.LastErrorException;
import com.sun.jna.Library;
import com.sun.jna.Native;
import java.io.BufferedReader;
import java.io.IOException;
import java.net.InetAddress;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * The kernel's connection tracking table, read from /proc/net/nf_conntrack and trimmed through
 * ctnetlink, as the conntrack tool does (which this machine need not have). The mesh needs it for
 * one case: a connection DNATed to a task and then reset by the task's side leaves an entry that a
 * new connection from the same client port reuses, NAT and all, for ten seconds, and that one would
 * go to a task long gone.
 */
final class Conntrack implements AutoCloseable {
  private static final int AF_INET = 2;
  private static final int AF_NETLINK = 16;
  private static final int SOCK_RAW = 3;
  private static final int NETLINK_NETFILTER = 12;
  private static final int SOL_SOCKET = 1;
  private static final int SO_RCVTIMEO = 20;
  private static final short IPCTNL_MSG_CT_DELETE = (1 << 8) | 2;
  private static final short NLM_F_REQUEST_ACK = 0x1 | 0x4;
  private static final short NLMSG_ERROR = 2;
  private static final short NLA_F_NESTED = (short) 0x8000;
  private static final short CTA_TUPLE_ORIG = 1;
  private static final short CTA_TUPLE_IP = 1;
  private static final short CTA_TUPLE_PROTO = 2;
  private static final short CTA_IP_V4_SRC = 1;
  private static final short CTA_IP_V4_DST = 2;
  private static final short CTA_PROTO_NUM = 1;
  private static final short CTA_PROTO_SRC_PORT = 2;
  private static final short CTA_PROTO_DST_PORT = 3;
  private static final short CTA_ZONE = 18;
  private static final Path TABLE = Path.of("/proc/net/nf_conntrack");

  /** libc's socket calls: the JDK has no AF_NETLINK. */
  interface LibC extends Library {
    int socket(int domain, int type, int protocol) throws LastErrorException;

    int setsockopt(int fd, int level, int option, byte[] value, int length) throws LastErrorException;

    int sendto(int fd, byte[] buf, int len, int flags, byte[] addr, int addrLength) throws LastErrorException;

    int recv(int fd, byte[] buf, int len, int flags) throws LastErrorException;

    int close(int fd);
  }

  /** An IPv4 entry: its original tuple, and where its replies come from (the DNAT target). */
  record Entry(String protocol, String state, String src, int sport, String dst, int dport, String replySrc,
      int replySport, int zone) {}

  private final LibC libc;
  private final int fd;
  private int seq;

  private Conntrack(LibC libc, int fd) {
    this.libc = libc;
    this.fd = fd;
  }

  /** A ctnetlink socket; fails where there is no libc to load or no CAP_NET_ADMIN. */
  static Conntrack open() {
    LibC libc = Native.load("c", LibC.class);
    int fd = libc.socket(AF_NETLINK, SOCK_RAW, NETLINK_NETFILTER);
    byte[] oneSecond = ByteBuffer.allocate(16).order(ByteOrder.nativeOrder()).putLong(1).putLong(0).array();
    libc.setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, oneSecond, oneSecond.length);
    return new Conntrack(libc, fd);
  }

  static boolean readable() {
    return Files.isReadable(TABLE);
  }

  /** The table's IPv4 TCP and UDP entries. */
  static List<Entry> read() throws IOException {
    List<Entry> entries = new ArrayList<>();
    try (BufferedReader in = Files.newBufferedReader(TABLE, StandardCharsets.US_ASCII)) {
      String line;
      while ((line = in.readLine()) != null) {
        Entry e = parse(line);
        if (e != null) {
          entries.add(e);
        }
      }
    }
    return entries;
  }

  /**
   * One line of /proc/net/nf_conntrack, e.g. {@code ipv4 2 tcp 6 9 CLOSE src=127.0.0.1 dst=127.0.0.72
   * sport=40000 dport=8101 src=127.0.0.71 dst=127.0.0.1 sport=32786 dport=40000 mark=0 zone=0 use=2};
   * null for other families and protocols. UDP has no state word.
   */
  static Entry parse(String line) {
    String[] f = line.trim().split("\\s+");
    if (f.length < 6 || !f[0].equals("ipv4") || !(f[2].equals("tcp") || f[2].equals("udp"))) {
      return null;
    }
    String state = f[2].equals("tcp") ? f[5] : "";
    List<Map<String, String>> tuples = new ArrayList<>();
    Map<String, String> current = null;
    int zone = 0;
    for (String word : f) {
      int eq = word.indexOf('=');
      if (eq < 0) {
        continue;
      }
      String key = word.substring(0, eq);
      String value = word.substring(eq + 1);
      if (key.equals("src")) {
        current = new HashMap<>();
        tuples.add(current);
      }
      if (key.equals("zone")) {
        zone = Integer.parseInt(value);
      } else if (current != null) {
        current.putIfAbsent(key, value);
      }
    }
    if (tuples.size() != 2 || !tuples.get(0).containsKey("sport") || !tuples.get(1).containsKey("sport")) {
      return null;
    }
    Map<String, String> o = tuples.get(0);
    Map<String, String> r = tuples.get(1);
    return new Entry(f[2], state, o.get("src"), Integer.parseInt(o.get("sport")), o.get("dst"),
        Integer.parseInt(o.get("dport")), r.get("src"), Integer.parseInt(r.get("sport")), zone);
  }

  /** Deletes the entry by its original tuple; false when it was gone already. */
  boolean delete(Entry e) throws IOException {
    byte[] msg = deleteMessage(e, ++seq);
    byte[] kernel = ByteBuffer.allocate(12).order(ByteOrder.nativeOrder()).putShort((short) AF_NETLINK).array();
    try {
      libc.sendto(fd, msg, msg.length, 0, kernel, kernel.length);
      byte[] reply = new byte[256];
      int n = libc.recv(fd, reply, reply.length, 0);
      ByteBuffer b = ByteBuffer.wrap(reply, 0, n).order(ByteOrder.nativeOrder());
      if (n < 20 || b.getShort(4) != NLMSG_ERROR) {
        throw new IOException("unexpected ctnetlink reply of " + n + " bytes");
      }
      int error = b.getInt(16);
      if (error == 0 || error == -2) {
        return error == 0;
      }
      throw new IOException("ctnetlink delete failed: errno " + -error);
    } catch (LastErrorException x) {
      throw new IOException("ctnetlink: errno " + x.getErrorCode(), x);
    }
  }

  /** nlmsghdr, nfgenmsg, then the original tuple (and zone) as ctnetlink's nested attributes. */
  static byte[] deleteMessage(Entry e, int seq) throws IOException {
    ByteBuffer ip = attrs()
        .put(attr(CTA_IP_V4_SRC, InetAddress.getByName(e.src()).getAddress()))
        .put(attr(CTA_IP_V4_DST, InetAddress.getByName(e.dst()).getAddress()));
    ByteBuffer proto = attrs()
        .put(attr(CTA_PROTO_NUM, new byte[] {(byte) (e.protocol().equals("tcp") ? 6 : 17)}))
        .put(attr(CTA_PROTO_SRC_PORT, bigEndianShort(e.sport())))
        .put(attr(CTA_PROTO_DST_PORT, bigEndianShort(e.dport())));
    ByteBuffer tuple = attrs()
        .put(attr((short) (CTA_TUPLE_IP | NLA_F_NESTED), bytes(ip)))
        .put(attr((short) (CTA_TUPLE_PROTO | NLA_F_NESTED), bytes(proto)));
    ByteBuffer body = attrs().put(attr((short) (CTA_TUPLE_ORIG | NLA_F_NESTED), bytes(tuple)));
    if (e.zone() != 0) {
      body.put(attr(CTA_ZONE, bigEndianShort(e.zone())));
    }
    byte[] payload = bytes(body);
    int length = 16 + 4 + payload.length;
    return ByteBuffer.allocate(length).order(ByteOrder.nativeOrder())
        .putInt(length).putShort(IPCTNL_MSG_CT_DELETE).putShort(NLM_F_REQUEST_ACK).putInt(seq).putInt(0)
        .put((byte) AF_INET).put((byte) 0).putShort((short) 0)
        .put(payload)
        .array();
  }

  private static ByteBuffer attrs() {
    return ByteBuffer.allocate(512).order(ByteOrder.nativeOrder());
  }

  private static byte[] bytes(ByteBuffer b) {
    byte[] out = new byte[b.position()];
    b.flip().get(out);
    return out;
  }

  /** One netlink attribute, padded to four bytes. */
  private static byte[] attr(short type, byte[] value) {
    int length = 4 + value.length;
    ByteBuffer b = ByteBuffer.allocate((length + 3) & ~3).order(ByteOrder.nativeOrder());
    b.putShort((short) length).putShort(type).put(value);
    return b.array();
  }

  private static byte[] bigEndianShort(int v) {
    return new byte[] {(byte) (v >>> 8), (byte) v};
  }

  @Override
  public void close() {
    libc.close(fd);
  }
}
