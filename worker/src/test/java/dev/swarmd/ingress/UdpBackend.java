package dev.swarmd.ingress;

import dev.swarmd.protocol.IngressRoute;

import java.io.IOException;
import java.net.DatagramPacket;
import java.net.DatagramSocket;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;

/** Answers each datagram {@code d} with {@code name:d}, and remembers where datagrams came from. */
final class UdpBackend implements AutoCloseable {
  private final String name;
  private final DatagramSocket socket;
  private final Thread thread;
  final List<SocketAddress> senders = new CopyOnWriteArrayList<>();

  UdpBackend(String name) throws IOException {
    this.name = name;
    this.socket = new DatagramSocket(new InetSocketAddress(InetAddress.getByName("127.0.0.1"), 0));
    this.thread = new Thread(this::serve, "udp-backend-" + name);
    thread.setDaemon(true);
    thread.start();
  }

  IngressRoute.Backend backend() {
    return new IngressRoute.Backend("task-" + name, "127.0.0.1", socket.getLocalPort());
  }

  private void serve() {
    byte[] buf = new byte[65536];
    while (!socket.isClosed()) {
      DatagramPacket p = new DatagramPacket(buf, buf.length);
      try {
        socket.receive(p);
        senders.add(p.getSocketAddress());
        byte[] reply = (name + ":" + new String(p.getData(), 0, p.getLength(), StandardCharsets.UTF_8))
            .getBytes(StandardCharsets.UTF_8);
        socket.send(new DatagramPacket(reply, reply.length, p.getSocketAddress()));
      } catch (IOException e) {
        return;
      }
    }
  }

  @Override
  public void close() {
    socket.close();
  }
}
