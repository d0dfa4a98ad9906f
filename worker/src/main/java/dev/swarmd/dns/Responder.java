package dev.swarmd.dns;

import java.io.IOException;
import java.net.InetAddress;
import java.util.List;
import java.util.Optional;
import java.util.function.Supplier;
import org.xbill.DNS.ARecord;
import org.xbill.DNS.DClass;
import org.xbill.DNS.Flags;
import org.xbill.DNS.Header;
import org.xbill.DNS.Message;
import org.xbill.DNS.OPTRecord;
import org.xbill.DNS.Opcode;
import org.xbill.DNS.Rcode;
import org.xbill.DNS.Record;
import org.xbill.DNS.Section;
import org.xbill.DNS.Type;

/** Answers a query from the table, or says that it is not ours and goes upstream. Shared by UDP and TCP. */
final class Responder {
  /**
   * Tasks come and go and services get recreated under the same name; a cached answer would send
   * clients (and HAProxy's resolvers) to tasks that are gone, so nothing is to be cached. Docker answers
   * with 600 s, which is why dnsrr clients there hold dead addresses for minutes.
   */
  static final long TTL = 0;

  /** Classic DNS over UDP without EDNS. */
  static final int CLASSIC_UDP_SIZE = 512;

  /** What we accept from EDNS clients: the DNS flag day 2020 size, which avoids IP fragmentation. */
  static final int EDNS_UDP_SIZE = 1232;

  private final Supplier<DnsTable> table;

  Responder(Supplier<DnsTable> table) {
    this.table = table;
  }

  /** The query in {@code wire}, or null if it does not parse or is not a query at all (a stray response). */
  static Message parseQuery(byte[] wire) {
    try {
      Message message = new Message(wire);
      return message.getHeader().getFlag(Flags.QR) ? null : message;
    } catch (IOException | RuntimeException e) {
      return null;
    }
  }

  /** Our response to {@code query}; null when the name is not ours, so the query is to be forwarded. */
  Message answer(Message query) {
    if (query.getHeader().getOpcode() != Opcode.QUERY) {
      return reply(query, Rcode.NOTIMP);
    }
    if (query.getHeader().getCount(Section.QUESTION) != 1) {
      return reply(query, Rcode.FORMERR);
    }
    Record question = query.getQuestion();
    if (question.getDClass() != DClass.IN) {
      return null;
    }
    Optional<List<InetAddress>> addresses = table.get().lookup(question.getName().toString(true));
    if (addresses.isEmpty()) {
      return null;
    }
    // Any other type, AAAA included, gets NODATA: the name exists, just not with that type.
    Message response = reply(query, Rcode.NOERROR);
    response.getHeader().setFlag(Flags.AA);
    if (question.getType() == Type.A) {
      for (InetAddress address : addresses.get()) {
        // The question's own name, in its own case, for clients that randomise case (0x20).
        response.addRecord(new ARecord(question.getName(), DClass.IN, TTL, address), Section.ANSWER);
      }
    }
    return response;
  }

  /**
   * A response to {@code query} without records: its ID, its question, its RD, and an OPT record if
   * the client spoke EDNS. No SOA with NODATA: it would only serve negative caching, which TTL 0 rules out.
   */
  static Message reply(Message query, int rcode) {
    Header in = query.getHeader();
    Message response = new Message(in.getID());
    Header out = response.getHeader();
    out.setFlag(Flags.QR);
    out.setFlag(Flags.RA);
    if (in.getFlag(Flags.RD)) {
      out.setFlag(Flags.RD);
    }
    out.setOpcode(in.getOpcode());
    out.setRcode(rcode);
    if (in.getCount(Section.QUESTION) == 1) {
      response.addRecord(query.getQuestion(), Section.QUESTION);
    }
    if (query.getOPT() != null) {
      response.addRecord(new OPTRecord(EDNS_UDP_SIZE, 0, 0), Section.ADDITIONAL);
    }
    return response;
  }

  /** The largest UDP response the client takes; a larger one is truncated with TC set. */
  static int maxUdpSize(Message query) {
    OPTRecord opt = query.getOPT();
    if (opt == null) {
      return CLASSIC_UDP_SIZE;
    }
    return Math.max(CLASSIC_UDP_SIZE, Math.min(opt.getPayloadSize(), EDNS_UDP_SIZE));
  }
}
