package dev.swarmd.dns;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.time.Duration;
import org.xbill.DNS.DClass;
import org.xbill.DNS.Flags;
import org.xbill.DNS.Message;
import org.xbill.DNS.Name;
import org.xbill.DNS.Rcode;
import org.xbill.DNS.Record;
import org.xbill.DNS.SimpleResolver;
import org.xbill.DNS.Type;

/**
 * Whether a swarm DNS answers at an address: it answers tasks.&lt;service&gt; with authority, where any
 * other resolver would say it does not know the name. A container is given a resolver only when one
 * answers, so that a foreign server on that address never leaves its tasks without name resolution.
 */
public final class DnsProbe {
  private static final Duration TIMEOUT = Duration.ofSeconds(1);

  private DnsProbe() {}

  public static boolean answersFor(InetSocketAddress server, String serviceName) {
    try {
      SimpleResolver resolver = new SimpleResolver(server);
      resolver.setTimeout(TIMEOUT);
      Record question = Record.newRecord(Name.fromString("tasks." + serviceName + "."), Type.A, DClass.IN);
      Message response = resolver.send(Message.newQuery(question));
      return response.getRcode() == Rcode.NOERROR && response.getHeader().getFlag(Flags.AA);
    } catch (IOException e) {
      return false;
    }
  }
}
