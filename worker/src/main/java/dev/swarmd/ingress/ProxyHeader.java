package dev.swarmd.ingress;

import java.net.Inet4Address;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;

/** PROXY protocol version 2 headers, as haproxy's proxy-protocol.txt (section 2.2) lays them out. */
final class ProxyHeader {
  private static final byte[] SIGNATURE = {
      0x0D, 0x0A, 0x0D, 0x0A, 0x00, 0x0D, 0x0A, 0x51, 0x55, 0x49, 0x54, 0x0A};
  private static final byte VERSION_2_PROXY = 0x21;
  private static final byte TCP_OVER_IPV4 = 0x11;
  private static final byte TCP_OVER_IPV6 = 0x21;

  private ProxyHeader() {}

  /**
   * The header for a TCP connection from {@code source} that arrived on {@code destination}. Mixed
   * families are sent as IPv6, the IPv4 address mapped into it (::ffff:a.b.c.d).
   */
  static ByteBuffer v2(InetSocketAddress source, InetSocketAddress destination) {
    boolean ipv4 = source.getAddress() instanceof Inet4Address
        && destination.getAddress() instanceof Inet4Address;
    int addressLength = ipv4 ? 4 : 16;
    int payload = 2 * addressLength + 4;
    ByteBuffer header = ByteBuffer.allocate(SIGNATURE.length + 4 + payload);
    header.put(SIGNATURE)
        .put(VERSION_2_PROXY)
        .put(ipv4 ? TCP_OVER_IPV4 : TCP_OVER_IPV6)
        .putShort((short) payload)
        .put(bytes(source.getAddress(), addressLength))
        .put(bytes(destination.getAddress(), addressLength))
        .putShort((short) source.getPort())
        .putShort((short) destination.getPort());
    return header.flip();
  }

  private static byte[] bytes(InetAddress address, int length) {
    byte[] raw = address.getAddress();
    if (raw.length == length) {
      return raw;
    }
    byte[] mapped = new byte[16];
    mapped[10] = (byte) 0xFF;
    mapped[11] = (byte) 0xFF;
    System.arraycopy(raw, 0, mapped, 12, 4);
    return mapped;
  }
}
