package dev.swarmd.ingress;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.PortUnreachableException;
import java.nio.ByteBuffer;
import java.nio.channels.DatagramChannel;
import java.nio.channels.SelectionKey;
import java.nio.channels.UnresolvedAddressException;
import java.nio.channels.UnsupportedAddressTypeException;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One published UDP port. Each client address gets a flow: a socket of its own connected to one
 * backend, so that replies can be told apart and sent back to that client from the published port.
 */
final class UdpListener extends Listener {
  private static final Logger LOG = LoggerFactory.getLogger(UdpListener.class);
  private static final int BATCH = 64;

  private final DatagramChannel channel;
  private final long idleNanos;
  private final Map<InetSocketAddress, Flow> flows = new HashMap<>();
  private EventLoop.Timer sweep;
  private boolean closed;
  private int nextBackend;

  private UdpListener(DatagramChannel channel, EventLoop loop, long idleNanos, RouteTable table) {
    super(channel, SelectionKey.OP_READ, loop, table);
    this.channel = channel;
    this.idleNanos = idleNanos;
  }

  /** Binds now, on the caller's thread, so that a port in use is known at once. */
  static UdpListener bind(InetSocketAddress address, RouteTable table, EventLoop loop, long idleNanos)
      throws IOException {
    DatagramChannel channel = DatagramChannel.open();
    try {
      channel.bind(address);
      channel.configureBlocking(false);
    } catch (IOException | RuntimeException e) {
      channel.close();
      throw e;
    }
    return new UdpListener(channel, loop, idleNanos, table);
  }

  @Override
  protected void started() {
    scheduleSweep();
  }

  @Override
  public void close() {
    if (closed) {
      return;
    }
    closed = true;
    if (sweep != null) {
      sweep.cancel();
    }
    for (Flow flow : new ArrayList<>(flows.values())) {
      flow.close();
    }
    if (key != null) {
      key.cancel();
    }
    Channels.closeQuietly(channel);
  }

  @Override
  public void onReady(SelectionKey key) {
    for (int i = 0; i < BATCH; i++) {
      ByteBuffer buffer = loop.readBuffer();
      InetSocketAddress client;
      try {
        client = (InetSocketAddress) channel.receive(buffer);
      } catch (IOException e) {
        LOG.debug("ingress: receive on {}/udp failed: {}", table.route().publishedPort(), e.toString());
        return;
      }
      if (client == null) {
        return;
      }
      forward(client, buffer.flip());
    }
  }

  private void forward(InetSocketAddress client, ByteBuffer datagram) {
    RouteTable current = table;
    Flow flow = flows.get(client);
    if (flow != null && flow.table != current) {
      // A flow outlives a route change only if its backend is still in the route.
      if (current.contains(flow.target.address())) {
        flow.table = current;
      } else {
        flow.close();
        flow = null;
      }
    }
    if (flow == null) {
      flow = open(client, current);
      if (flow == null) {
        return;
      }
    }
    flow.send(datagram);
  }

  /** A new flow to the next backend in turn that a socket can be connected to; null if none. */
  private Flow open(InetSocketAddress client, RouteTable current) {
    List<RouteTable.Target> targets = current.targets();
    int first = nextBackend;
    nextBackend = (nextBackend + 1) & Integer.MAX_VALUE;
    for (int i = 0; i < targets.size(); i++) {
      RouteTable.Target target = targets.get((first + i) % targets.size());
      DatagramChannel socket = null;
      try {
        socket = DatagramChannel.open(target.family());
        socket.configureBlocking(false);
        socket.connect(target.address());
        Flow flow = new Flow(client, socket, target, current);
        flow.key = loop.register(socket, SelectionKey.OP_READ, flow);
        flows.put(client, flow);
        return flow;
      } catch (IOException | UnresolvedAddressException | UnsupportedAddressTypeException e) {
        Channels.closeQuietly(socket);
        LOG.debug("ingress {}: udp backend {} failed: {}", current.route().serviceName(), target.address(),
            e.toString());
      }
    }
    return null;
  }

  private void scheduleSweep() {
    long period = Math.max(TimeUnit.MILLISECONDS.toNanos(10), Math.min(idleNanos / 4, TimeUnit.SECONDS.toNanos(1)));
    sweep = loop.schedule(period, TimeUnit.NANOSECONDS, () -> {
      expireIdle();
      if (!closed) {
        scheduleSweep();
      }
    });
  }

  private void expireIdle() {
    long now = System.nanoTime();
    flows.values().removeIf(flow -> {
      if (now - flow.lastActive < idleNanos) {
        return false;
      }
      flow.closeSocket();
      return true;
    });
  }

  /** The datagrams between one client address and its backend. */
  private final class Flow implements EventLoop.Handler {
    private final InetSocketAddress client;
    private final DatagramChannel socket;
    private final RouteTable.Target target;
    private RouteTable table;
    private SelectionKey key;
    private long lastActive = System.nanoTime();

    Flow(InetSocketAddress client, DatagramChannel socket, RouteTable.Target target, RouteTable table) {
      this.client = client;
      this.socket = socket;
      this.target = target;
      this.table = table;
    }

    void send(ByteBuffer datagram) {
      try {
        // A full socket buffer drops the datagram, as a full network would.
        socket.write(datagram);
        lastActive = System.nanoTime();
      } catch (IOException e) {
        failed(e);
      }
    }

    @Override
    public void onReady(SelectionKey key) {
      for (int i = 0; i < BATCH; i++) {
        ByteBuffer buffer = loop.readBuffer();
        try {
          if (socket.receive(buffer) == null) {
            return;
          }
          channel.send(buffer.flip(), client);
          lastActive = System.nanoTime();
        } catch (IOException e) {
          failed(e);
          return;
        }
      }
    }

    /** An unreachable backend ends the flow, so that the client's next datagram picks another one. */
    private void failed(IOException e) {
      if (!(e instanceof PortUnreachableException)) {
        LOG.debug("ingress: udp flow {} -> {} failed: {}", client, target.address(), e.toString());
      }
      close();
    }

    @Override
    public void close() {
      flows.remove(client, this);
      closeSocket();
    }

    void closeSocket() {
      if (key != null) {
        key.cancel();
      }
      Channels.closeQuietly(socket);
    }
  }
}
