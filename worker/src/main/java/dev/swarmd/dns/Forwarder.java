package dev.swarmd.dns;

import java.io.BufferedOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.net.DatagramPacket;
import java.net.DatagramSocket;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.security.SecureRandom;
import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.xbill.DNS.Flags;
import org.xbill.DNS.Message;
import org.xbill.DNS.Record;

/**
 * Passes queries for names that are not ours to the upstream resolvers, as they came (EDNS and all),
 * over the transport the client used, and relays the first answer. Blocking: it runs on a thread of
 * its own, never on a receive thread.
 */
final class Forwarder {
  static final Duration TIMEOUT = Duration.ofSeconds(2);

  private static final Logger LOG = LoggerFactory.getLogger(Forwarder.class);

  private final List<InetSocketAddress> upstreams;
  private final SecureRandom random = new SecureRandom();

  Forwarder(List<InetSocketAddress> upstreams) {
    this.upstreams = List.copyOf(upstreams);
  }

  /** The upstream's response under the client's ID; null when no upstream answered within {@link #TIMEOUT}. */
  byte[] ask(Message query, byte[] wire, boolean tcp) {
    long deadline = System.nanoTime() + TIMEOUT.toNanos();
    // An ID of our own, with a fresh port per query, so that a forged answer has to guess both.
    int id = random.nextInt(0x10000);
    byte[] out = withId(wire, id);
    for (int i = 0; i < upstreams.size(); i++) {
      InetSocketAddress upstream = upstreams.get(i);
      // An equal share of what is left, so that a dead first upstream leaves time for the next.
      long share = (deadline - System.nanoTime()) / (upstreams.size() - i);
      if (share <= 0) {
        break;
      }
      try {
        byte[] reply = tcp ? overTcp(upstream, out, id, query, share) : overUdp(upstream, out, id, query, share);
        if (reply != null) {
          return withId(reply, query.getHeader().getID());
        }
        LOG.debug("dns: upstream {} gave no valid answer for {}", upstream, query.getQuestion());
      } catch (IOException e) {
        LOG.debug("dns: upstream {} failed for {}: {}", upstream, query.getQuestion(), e.toString());
      }
    }
    return null;
  }

  private static byte[] overUdp(InetSocketAddress upstream, byte[] out, int id, Message query, long nanos)
      throws IOException {
    long end = System.nanoTime() + nanos;
    try (DatagramSocket socket = new DatagramSocket()) {
      // Connected: only the upstream's datagrams get in, and an ICMP unreachable fails fast.
      socket.connect(upstream);
      socket.send(new DatagramPacket(out, out.length));
      byte[] buffer = new byte[Framing.MAX_MESSAGE];
      while (true) {
        long left = end - System.nanoTime();
        if (left <= 0) {
          return null;
        }
        socket.setSoTimeout(millis(left));
        DatagramPacket packet = new DatagramPacket(buffer, buffer.length);
        socket.receive(packet);
        byte[] reply = Arrays.copyOf(buffer, packet.getLength());
        if (answers(reply, id, query)) {
          return reply;
        }
      }
    }
  }

  private static byte[] overTcp(InetSocketAddress upstream, byte[] out, int id, Message query, long nanos)
      throws IOException {
    long end = System.nanoTime() + nanos;
    try (Socket socket = new Socket()) {
      socket.connect(upstream, millis(nanos));
      DataOutputStream output = new DataOutputStream(new BufferedOutputStream(socket.getOutputStream()));
      DataInputStream input = new DataInputStream(socket.getInputStream());
      Framing.write(output, out);
      long left = end - System.nanoTime();
      if (left <= 0) {
        return null;
      }
      socket.setSoTimeout(millis(left));
      byte[] reply = Framing.read(input);
      return reply != null && answers(reply, id, query) ? reply : null;
    }
  }

  /** A response to our query: our ID, QR set, the same question. */
  private static boolean answers(byte[] reply, int id, Message query) {
    if (reply.length < 12 || id(reply) != id) {
      return false;
    }
    try {
      Message message = new Message(reply);
      Record question = message.getQuestion();
      return message.getHeader().getFlag(Flags.QR) && question != null && question.equals(query.getQuestion());
    } catch (IOException | RuntimeException e) {
      return false;
    }
  }

  private static int id(byte[] message) {
    return ((message[0] & 0xff) << 8) | (message[1] & 0xff);
  }

  private static byte[] withId(byte[] message, int id) {
    byte[] copy = message.clone();
    copy[0] = (byte) (id >>> 8);
    copy[1] = (byte) id;
    return copy;
  }

  private static int millis(long nanos) {
    return (int) Math.max(1, TimeUnit.NANOSECONDS.toMillis(nanos));
  }
}
