package dev.swarmd.ingress;

import java.io.IOException;
import java.net.StandardSocketOptions;
import java.nio.channels.Channel;
import java.nio.channels.SocketChannel;

final class Channels {
  private Channels() {}

  static void closeQuietly(Channel channel) {
    if (channel == null) {
      return;
    }
    try {
      channel.close();
    } catch (IOException e) {
      // Nothing left to do with a channel that will not even close.
    }
  }

  /** Closes with an RST rather than a FIN: the peer learns the connection failed, and no TIME_WAIT stays behind. */
  static void reset(SocketChannel channel) {
    if (channel == null) {
      return;
    }
    try {
      if (channel.isOpen()) {
        channel.setOption(StandardSocketOptions.SO_LINGER, 0);
      }
    } catch (IOException e) {
      // Closing below is what matters.
    }
    closeQuietly(channel);
  }
}
