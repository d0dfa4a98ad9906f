package dev.swarmd.daemon;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.typesafe.config.ConfigFactory;
import dev.swarmd.audit.AuditEntry;
import dev.swarmd.audit.AuditJson;
import dev.swarmd.audit.AuditTrail;
import dev.swarmd.audit.Filter;
import dev.swarmd.persistence.Journal;
import dev.swarmd.persistence.JournalScan;
import java.io.BufferedOutputStream;
import java.io.FileDescriptor;
import java.io.FileOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.net.ConnectException;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileSystemException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import java.time.Instant;
import java.time.OffsetDateTime;
import java.time.format.DateTimeParseException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * Replays a data root's journal as the audit trail: every change, in order, with who or what asked.
 * It reads a copy of the journal, so it works on a running node as on a stopped one.
 */
@Command(name = "audit", mixinStandardHelpOptions = true, subcommands = Verify.class,
    description = "Replays the swarm journal of a data root, running or stopped: every change, in order, with its "
        + "cause.")
final class Audit implements Callable<Integer> {
  private static final Pattern DURATION = Pattern.compile("(\\d+)(ms|s|m|h)");
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final Pattern HOST = Pattern.compile("tcp://([^:/]+):(\\d{1,5})");

  @Option(names = "--data-root", paramLabel = "DIR",
      description = "The node's data root (default: ${DEFAULT-VALUE}).")
  Path dataRoot = Path.of("/var/lib/swarmd");

  @Option(names = "--json", description = "One JSON object per line instead of a table.")
  boolean json;

  @Option(names = "--since", paramLabel = "TIME",
      description = "Only changes at or after TIME: RFC 3339, seconds since the epoch, or a duration ago (10m, 2h).")
  String since;

  @Option(names = "--until", paramLabel = "TIME", description = "Only changes at or before TIME (same forms).")
  String until;

  @Option(names = "--follow", description = "Replay through the running daemon at --host (not the journal files), "
      + "then print each new change as it happens, until interrupted (or --until).")
  boolean follow;

  @Option(names = {"-H", "--host"}, paramLabel = "tcp://ADDR:PORT",
      description = "With --follow: the daemon's Docker API (default: ${DEFAULT-VALUE}).")
  String host = "tcp://127.0.0.1:2375";

  @Option(names = {"-f", "--filter"}, paramLabel = "KEY=VALUE",
      description = "As docker events: type (and task: the tasks themselves), service, node, event, scope, "
          + "container. Repeat to combine.")
  List<String> filters = new ArrayList<>();

  @Override
  public Integer call() throws Exception {
    Instant now = Instant.now();
    Instant from = since == null ? Instant.EPOCH : time(since, now);
    Instant to = until == null ? Instant.MAX : time(until, now);
    Filter filter = filter();
    // System.out flushes every line, as following wants; a long history prints much faster through a buffer.
    PrintStream out = follow ? System.out
        : new PrintStream(new BufferedOutputStream(new FileOutputStream(FileDescriptor.out), 1 << 16), false);
    if (follow) {
      return follow(out, from, to);
    }
    header(out);
    AuditTrail trail = new AuditTrail(true);
    withJournal(this, dataRoot, (system, journal) -> {
      JournalScan.forEach(system, journal, e -> {
        for (AuditEntry a : trail.apply(e.persistenceId(), e.sequenceNr(), e.event())) {
          if (!a.at().isBefore(from) && !a.at().isAfter(to) && filter.test(a)) {
            out.println(json ? AuditJson.write(a) : row(a));
          }
        }
      });
      return null;
    });
    out.flush();
    return 0;
  }

  /** The daemon's /swarmd/audit: its history, then live, one JSON entry a line. */
  private int follow(PrintStream out, Instant from, Instant to) throws IOException, InterruptedException {
    Matcher h = HOST.matcher(host);
    if (!h.matches() || Integer.parseInt(h.group(2)) > 65535) {
      throw new CommandLine.ParameterException(new CommandLine(this), "invalid --host " + host
          + ": expected tcp://ADDR:PORT");
    }
    StringBuilder query = new StringBuilder("since=").append(epoch(from));
    if (!to.equals(Instant.MAX)) {
      query.append("&until=").append(epoch(to));
    }
    if (!filters.isEmpty()) {
      ObjectNode f = JSON.createObjectNode();
      for (String kv : filters) {
        int eq = kv.indexOf('=');
        ((ObjectNode) f.with(kv.substring(0, eq))).put(kv.substring(eq + 1), true);
      }
      query.append("&filters=").append(URLEncoder.encode(f.toString(), StandardCharsets.UTF_8));
    }
    URI uri = URI.create("http://" + h.group(1) + ":" + h.group(2) + "/swarmd/audit?" + query);
    HttpResponse<Stream<String>> r;
    try {
      r = HttpClient.newHttpClient().send(HttpRequest.newBuilder(uri).GET().build(),
          HttpResponse.BodyHandlers.ofLines());
    } catch (ConnectException e) {
      System.err.println("swarmd audit: no daemon answers at " + host);
      return 1;
    }
    if (r.statusCode() != 200) {
      String body = r.body().collect(Collectors.joining("\n"));
      System.err.println("swarmd audit: " + host + " answered " + r.statusCode() + ": " + body);
      return 1;
    }
    header(out);
    try (Stream<String> lines = r.body()) {
      lines.filter(l -> !l.isBlank()).forEach(l -> out.println(json ? l : row(AuditJson.read(l))));
    }
    return 0;
  }

  private void header(PrintStream out) {
    if (!json) {
      out.println(String.join("\t", "TIME", "INDEX", "TYPE", "ACTION", "ID", "NAME", "CAUSE", "CHANGES"));
    }
  }

  private static String epoch(Instant t) {
    return t.getEpochSecond() + "." + String.format("%09d", t.getNano());
  }

  /** Reads a copy of the journal, with an actor system for its events' serialization. */
  interface JournalRead<T> {
    T read(ActorSystem<Void> system, Path journal) throws Exception;
  }

  /**
   * Runs read on a copy of the data root's journal, in an actor system of its own started meanwhile: the copy
   * leaves out LevelDB's lock file, which a running daemon holds, and the copy needs none. LevelDB never
   * rewrites its table files, so those are hard-linked where the file system allows; the rest is copied.
   */
  static <T> T withJournal(Object command, Path dataRoot, JournalRead<T> read) throws Exception {
    Path journal = dataRoot.resolve("swarm").resolve("journal");
    if (!Files.isDirectory(journal)) {
      throw new CommandLine.ParameterException(new CommandLine(command), "no swarm journal under " + dataRoot);
    }
    Path root = Files.createTempDirectory("swarmd-audit");
    Path copy = Files.createDirectory(root.resolve("journal"));
    CompletableFuture<ActorSystem<Void>> starting = CompletableFuture.supplyAsync(() -> ActorSystem.create(
        Behaviors.empty(), "audit", ConfigFactory.parseString("pekko.loglevel = WARNING\npekko.stdout-loglevel = WARNING")
            .withFallback(Journal.config(root)).withFallback(ConfigFactory.load())));
    try {
      copyJournal(journal, copy);
      ActorSystem<Void> system = starting.get();
      try {
        return read.read(system, copy);
      } finally {
        system.terminate();
        system.getWhenTerminated().toCompletableFuture().get(30, TimeUnit.SECONDS);
      }
    } finally {
      LocalNode.deleteRecursively(root);
      starting.thenAccept(ActorSystem::terminate);
    }
  }

  /** A running daemon may compact (delete table files) while we copy: then the copy starts over. */
  private static void copyJournal(Path journal, Path copy) throws IOException {
    for (int attempt = 1; ; attempt++) {
      try (Stream<Path> files = Files.list(journal)) {
        for (Path f : files.toList()) {
          String name = f.getFileName().toString();
          Path to = copy.resolve(name);
          if (name.equals("LOCK")) {
            continue;
          }
          if (name.endsWith(".ldb") || name.endsWith(".sst")) {
            try {
              Files.createLink(to, f);
              continue;
            } catch (UnsupportedOperationException | FileSystemException e) {
              // another file system, or links not allowed: copy it
            }
          }
          Files.copy(f, to, StandardCopyOption.COPY_ATTRIBUTES);
        }
        return;
      } catch (NoSuchFileException e) {
        if (attempt == 5) {
          throw e;
        }
        LocalNode.deleteRecursively(copy);
        Files.createDirectories(copy);
      }
    }
  }

  static String row(AuditEntry a) {
    String changes = a.attributes().entrySet().stream()
        .filter(e -> !e.getKey().equals("name"))
        .map(e -> e.getKey() + "=" + e.getValue())
        .collect(Collectors.joining(", "));
    return String.join("\t", a.at().toString(), String.valueOf(a.index()), a.type(), a.action(), a.id(),
        a.attributes().getOrDefault("name", ""), a.cause() == null ? "" : a.cause().actor() + ": "
            + a.cause().reason(), changes);
  }

  private Instant time(String v, Instant now) {
    Matcher d = DURATION.matcher(v);
    if (d.matches()) {
      long n = Long.parseLong(d.group(1));
      Duration ago = switch (d.group(2)) {
        case "ms" -> Duration.ofMillis(n);
        case "s" -> Duration.ofSeconds(n);
        case "m" -> Duration.ofMinutes(n);
        default -> Duration.ofHours(n);
      };
      return now.minus(ago);
    }
    if (v.matches("\\d+(\\.\\d{1,9})?")) {
      String[] parts = v.split("\\.");
      long nanos = parts.length == 1 ? 0 : Long.parseLong((parts[1] + "000000000").substring(0, 9));
      return Instant.ofEpochSecond(Long.parseLong(parts[0]), nanos);
    }
    try {
      return OffsetDateTime.parse(v).toInstant();
    } catch (DateTimeParseException e) {
      throw new CommandLine.ParameterException(new CommandLine(this), "invalid time " + v
          + ": expected RFC 3339, seconds since the epoch, or a duration such as 10m");
    }
  }

  private Filter filter() {
    Map<String, List<String>> m = new LinkedHashMap<>();
    for (String f : filters) {
      int eq = f.indexOf('=');
      if (eq <= 0) {
        throw new CommandLine.ParameterException(new CommandLine(this), "bad format of filter (expected name=value)");
      }
      m.computeIfAbsent(f.substring(0, eq), k -> new ArrayList<>()).add(f.substring(eq + 1));
    }
    try {
      return Filter.of(m);
    } catch (IllegalArgumentException e) {
      throw new CommandLine.ParameterException(new CommandLine(this), e.getMessage());
    }
  }
}
