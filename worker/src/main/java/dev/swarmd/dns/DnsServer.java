package dev.swarmd.dns;

import java.io.Closeable;
import java.io.IOException;
import java.net.DatagramSocket;
import java.net.InetSocketAddress;
import java.nio.file.Path;
import java.net.ServerSocket;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The node's DNS server, over UDP and TCP on one address: the swarm's names from a {@link DnsTable},
 * everything else from the upstream resolvers. The table is swapped whole with {@link #setTable}, so
 * answering reads one volatile reference and takes no lock.
 */
public final class DnsServer implements Closeable {
  /** With port 0, how often to look for a port that is free for both UDP and TCP. */
  private static final int PORT_ATTEMPTS = 8;

  private static final long CLOSE_WAIT_MILLIS = 1000;
  private static final Logger LOG = LoggerFactory.getLogger(DnsServer.class);

  private final InetSocketAddress address;
  private final UdpService udp;
  private final TcpService tcp;
  private final AtomicBoolean closed = new AtomicBoolean();
  private volatile DnsTable table;

  private DnsServer(DatagramSocket udpSocket, ServerSocket tcpSocket, DnsTable table,
      List<InetSocketAddress> upstreams) {
    this.address = (InetSocketAddress) udpSocket.getLocalSocketAddress();
    this.table = table;
    Responder responder = new Responder(() -> this.table);
    Forwarder forwarder = new Forwarder(upstreams);
    String name = "dns-" + address.getPort();
    this.udp = new UdpService(udpSocket, responder, forwarder, name + "-udp");
    this.tcp = new TcpService(tcpSocket, responder, forwarder, name + "-tcp");
  }

  /**
   * Binds {@code address} for UDP and TCP (port 0: a port free for both) and starts serving.
   * {@code upstreams}: tried in order for names that are not in the table; none means SERVFAIL for them.
   *
   * @throws IOException if either socket cannot be bound; nothing stays bound then
   */
  public static DnsServer start(InetSocketAddress address, DnsTable table, List<InetSocketAddress> upstreams)
      throws IOException {
    Objects.requireNonNull(table, "table");
    List<InetSocketAddress> forwardTo = List.copyOf(upstreams);
    for (int attempt = 1; ; attempt++) {
      DatagramSocket udpSocket = bindUdp(address);
      InetSocketAddress bound = new InetSocketAddress(address.getAddress(), udpSocket.getLocalPort());
      ServerSocket tcpSocket = null;
      try {
        tcpSocket = new ServerSocket();
        tcpSocket.bind(bound);
      } catch (IOException | RuntimeException e) {
        udpSocket.close();
        if (tcpSocket != null) {
          closeQuietly(tcpSocket);
        }
        if (address.getPort() == 0 && attempt < PORT_ATTEMPTS) {
          continue;
        }
        throw new IOException("dns: cannot bind " + bound + "/tcp: " + e.getMessage(), e);
      }
      DnsServer server = new DnsServer(udpSocket, tcpSocket, table, forwardTo);
      server.udp.start();
      server.tcp.start();
      LOG.info("dns: serving on {} (udp, tcp), forwarding to {}", server.address,
          forwardTo.isEmpty() ? "none" : forwardTo);
      return server;
    }
  }

  /**
   * The {@code nameserver}s of the host's /etc/resolv.conf, leaving out {@code self} (the address this
   * server binds). Empty, with a warning, if the file cannot be read.
   */
  public static List<InetSocketAddress> hostResolvers(Path resolvConf, InetSocketAddress self) {
    try {
      return ResolvConf.nameservers(resolvConf, self);
    } catch (IOException e) {
      LOG.warn("dns: cannot read {}: {}; no upstream resolvers", resolvConf, e.toString());
      return List.of();
    }
  }

  /** The address served, with the port actually bound. */
  public InetSocketAddress address() {
    return address;
  }

  /** From the next query on, answers come from {@code table}. */
  public void setTable(DnsTable table) {
    this.table = Objects.requireNonNull(table, "table");
  }

  /** Releases both sockets, and the port with them; the threads end as their sockets close. */
  @Override
  public void close() {
    if (!closed.compareAndSet(false, true)) {
      return;
    }
    udp.close();
    tcp.close();
    LOG.info("dns: stopped serving on {}", address);
  }

  private static DatagramSocket bindUdp(InetSocketAddress address) throws IOException {
    DatagramSocket socket = new DatagramSocket(null);
    try {
      socket.bind(address);
      return socket;
    } catch (IOException | RuntimeException e) {
      socket.close();
      throw new IOException("dns: cannot bind " + address + "/udp: " + e.getMessage(), e);
    }
  }

  /**
   * Waits a little for a socket's thread: a socket closed under a blocked thread is only released
   * when that thread leaves the call, and the port should be free once {@link #close} returns.
   */
  static void awaitEnd(Thread thread) {
    try {
      thread.join(CLOSE_WAIT_MILLIS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  static ThreadFactory daemonThreads(String prefix) {
    AtomicInteger count = new AtomicInteger();
    return runnable -> {
      Thread thread = new Thread(runnable, prefix + "-" + count.incrementAndGet());
      thread.setDaemon(true);
      return thread;
    };
  }

  static void closeQuietly(Closeable closeable) {
    try {
      closeable.close();
    } catch (IOException e) {
      // Nothing left to do with a socket that will not even close.
    }
  }
}
