package dev.swarmd.ingress;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.ClosedChannelException;
import java.nio.channels.SelectableChannel;
import java.nio.channels.SelectionKey;
import java.nio.channels.Selector;
import java.util.ArrayDeque;
import java.util.Iterator;
import java.util.List;
import java.util.PriorityQueue;
import java.util.Queue;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.Executor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One selector thread. Every channel registered here is only ever touched by this thread, so the
 * handlers need no locks; other threads hand work over with {@link #execute}.
 */
final class EventLoop implements Executor {
  /** What a selection key is attached to. */
  interface Handler {
    void onReady(SelectionKey key);

    /** Releases the handler's channels; called when the loop shuts down. */
    void close();
  }

  static final int BUFFER_SIZE = 64 * 1024;
  private static final int POOL_LIMIT = 64;
  private static final Logger LOG = LoggerFactory.getLogger(EventLoop.class);

  private final Selector selector;
  private final Thread thread;
  private final Queue<Runnable> tasks = new ConcurrentLinkedQueue<>();
  private final AtomicBoolean wakeupPending = new AtomicBoolean();
  private final PriorityQueue<Timer> timers = new PriorityQueue<>();
  private final ArrayDeque<ByteBuffer> spare = new ArrayDeque<>();
  private final ByteBuffer readBuffer = ByteBuffer.allocateDirect(BUFFER_SIZE);
  private volatile boolean running = true;

  EventLoop(String name) throws IOException {
    this.selector = Selector.open();
    this.thread = new Thread(this::run, name);
    thread.setDaemon(true);
    thread.start();
  }

  @Override
  public void execute(Runnable task) {
    tasks.add(task);
    if (Thread.currentThread() != thread && wakeupPending.compareAndSet(false, true)) {
      selector.wakeup();
    }
  }

  /** Stops the loop and closes everything registered on it. */
  void shutdown() {
    execute(() -> running = false);
  }

  SelectionKey register(SelectableChannel channel, int ops, Handler handler) throws ClosedChannelException {
    return channel.register(selector, ops, handler);
  }

  /** The loop's scratch buffer: valid only until the handler returns. */
  ByteBuffer readBuffer() {
    return readBuffer.clear();
  }

  /** Keeps the unwritten rest of {@code data} in a buffer of its own, until {@link #release}. */
  ByteBuffer hold(ByteBuffer data) {
    ByteBuffer copy = spare.isEmpty() ? ByteBuffer.allocateDirect(BUFFER_SIZE) : spare.pop();
    copy.clear();
    copy.put(data).flip();
    return copy;
  }

  void release(ByteBuffer buffer) {
    if (buffer.isDirect() && buffer.capacity() == BUFFER_SIZE && spare.size() < POOL_LIMIT) {
      spare.push(buffer);
    }
  }

  Timer schedule(long delay, TimeUnit unit, Runnable action) {
    Timer timer = new Timer(System.nanoTime() + unit.toNanos(delay), action);
    timers.add(timer);
    return timer;
  }

  /** A one-shot action on this loop; cancelling it is cheap (it is dropped when due). */
  static final class Timer implements Comparable<Timer> {
    private final long deadline;
    private final Runnable action;
    private boolean cancelled;

    private Timer(long deadline, Runnable action) {
      this.deadline = deadline;
      this.action = action;
    }

    void cancel() {
      cancelled = true;
    }

    @Override
    public int compareTo(Timer o) {
      return Long.compare(deadline, o.deadline);
    }
  }

  private void run() {
    while (running) {
      try {
        select();
        handleReadyKeys();
        runDueTimers();
        runTasks();
      } catch (Throwable e) {
        // One broken handler must not take the node's ingress down with it.
        LOG.error("ingress event loop {}: unexpected error", thread.getName(), e);
      }
    }
    closeAll();
  }

  private void select() throws IOException {
    wakeupPending.set(false);
    if (!tasks.isEmpty()) {
      selector.selectNow();
      return;
    }
    Timer next = timers.peek();
    if (next == null) {
      selector.select();
      return;
    }
    long waitNanos = next.deadline - System.nanoTime();
    if (waitNanos <= 0) {
      selector.selectNow();
    } else {
      selector.select(Math.max(1, TimeUnit.NANOSECONDS.toMillis(waitNanos + 999_999)));
    }
  }

  private void handleReadyKeys() {
    Iterator<SelectionKey> it = selector.selectedKeys().iterator();
    while (it.hasNext()) {
      SelectionKey key = it.next();
      it.remove();
      if (key.isValid()) {
        ((Handler) key.attachment()).onReady(key);
      }
    }
  }

  private void runDueTimers() {
    long now = System.nanoTime();
    Timer t;
    while ((t = timers.peek()) != null && t.deadline - now <= 0) {
      timers.poll();
      if (!t.cancelled) {
        t.action.run();
      }
    }
  }

  private void runTasks() {
    Runnable task;
    while ((task = tasks.poll()) != null) {
      task.run();
    }
  }

  private void closeAll() {
    for (SelectionKey key : List.copyOf(selector.keys())) {
      if (key.attachment() instanceof Handler h) {
        h.close();
      }
    }
    try {
      selector.close();
    } catch (IOException e) {
      LOG.debug("closing selector", e);
    }
  }
}
