package dev.swarmd.dns;

import java.io.IOException;
import java.net.DatagramPacket;
import java.net.DatagramSocket;
import java.net.SocketAddress;
import java.util.Arrays;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.xbill.DNS.Message;
import org.xbill.DNS.Rcode;

/**
 * DNS over UDP. One thread receives and answers our names itself, which takes microseconds; queries
 * that go upstream wait on a small pool instead, so that a slow upstream never holds up our names.
 */
final class UdpService {
  /** Forwards in flight at once; each takes at most {@link Forwarder#TIMEOUT}. */
  private static final int FORWARD_THREADS = 32;

  /** Forwards waiting for a thread; past that, the client gets SERVFAIL at once. */
  private static final int FORWARD_QUEUE = 256;

  private static final Logger LOG = LoggerFactory.getLogger(UdpService.class);

  private final DatagramSocket socket;
  private final Responder responder;
  private final Forwarder forwarder;
  private final ThreadPoolExecutor forwards;
  private final Thread thread;

  UdpService(DatagramSocket socket, Responder responder, Forwarder forwarder, String name) {
    this.socket = socket;
    this.responder = responder;
    this.forwarder = forwarder;
    this.forwards = new ThreadPoolExecutor(FORWARD_THREADS, FORWARD_THREADS, 30, TimeUnit.SECONDS,
        new ArrayBlockingQueue<>(FORWARD_QUEUE), DnsServer.daemonThreads(name + "-forward"));
    forwards.allowCoreThreadTimeOut(true);
    this.thread = new Thread(this::run, name);
    thread.setDaemon(true);
  }

  void start() {
    thread.start();
  }

  void close() {
    socket.close();
    forwards.shutdownNow();
    DnsServer.awaitEnd(thread);
  }

  private void run() {
    byte[] buffer = new byte[Framing.MAX_MESSAGE];
    while (!socket.isClosed()) {
      DatagramPacket packet = new DatagramPacket(buffer, buffer.length);
      try {
        socket.receive(packet);
      } catch (IOException e) {
        if (!socket.isClosed()) {
          LOG.debug("dns: udp receive on {} failed: {}", socket.getLocalSocketAddress(), e.toString());
        }
        continue;
      }
      SocketAddress client = packet.getSocketAddress();
      try {
        handle(Arrays.copyOf(buffer, packet.getLength()), client);
      } catch (RuntimeException e) {
        // A query that breaks something must not stop the node's name service.
        LOG.debug("dns: udp query from {} failed", client, e);
      }
    }
  }

  private void handle(byte[] wire, SocketAddress client) {
    Message query = Responder.parseQuery(wire);
    if (query == null) {
      LOG.debug("dns: dropped a malformed udp packet from {}", client);
      return;
    }
    Message ours = responder.answer(query);
    if (ours != null) {
      send(ours.toWire(Responder.maxUdpSize(query)), client);
      return;
    }
    try {
      forwards.execute(() -> forward(query, wire, client));
    } catch (RejectedExecutionException e) {
      if (!socket.isClosed()) {
        LOG.debug("dns: too many forwards in flight; SERVFAIL for {} from {}", query.getQuestion(), client);
        sendServfail(query, client);
      }
    }
  }

  private void forward(Message query, byte[] wire, SocketAddress client) {
    byte[] reply = forwarder.ask(query, wire, false);
    if (reply == null) {
      sendServfail(query, client);
    } else {
      send(reply, client);
    }
  }

  private void sendServfail(Message query, SocketAddress client) {
    send(Responder.reply(query, Rcode.SERVFAIL).toWire(Responder.maxUdpSize(query)), client);
  }

  private void send(byte[] response, SocketAddress client) {
    try {
      socket.send(new DatagramPacket(response, response.length, client));
    } catch (IOException e) {
      if (!socket.isClosed()) {
        LOG.debug("dns: udp send to {} failed: {}", client, e.toString());
      }
    }
  }
}
