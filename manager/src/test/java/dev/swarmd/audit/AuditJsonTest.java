package dev.swarmd.audit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import dev.swarmd.protocol.Cause;
import java.time.Instant;
import java.util.Map;
import org.junit.jupiter.api.Test;

class AuditJsonTest {
  @Test
  void anEntryComesBackFromItsLine() {
    AuditEntry a = new AuditEntry(42, Instant.parse("2026-11-26T06:48:01.184454779Z"),
        Cause.api("127.0.0.1 (Docker-Client/28.2.2 (linux))", "POST /services/create"), "service", "create", "svc1",
        AuditEntry.attributes(Map.of("name", "web", "replicas.new", "2")), "Service|svc1", 1);

    String line = AuditJson.write(a);

    assertEquals(a, AuditJson.read(line));
    assertEquals("{\"time\":\"2026-11-26T06:48:01.184454779Z\",\"index\":42,\"type\":\"service\",\"action\":\"create\","
        + "\"id\":\"svc1\",\"attributes\":{\"name\":\"web\",\"replicas.new\":\"2\"},\"cause\":{\"actor\":"
        + "\"api 127.0.0.1 (Docker-Client/28.2.2 (linux))\",\"reason\":\"POST /services/create\"},"
        + "\"persistenceId\":\"Service|svc1\",\"sequenceNr\":1}", line);
  }

  @Test
  void aLineThatIsNoEntryIsRefused() {
    assertThrows(IllegalArgumentException.class, () -> AuditJson.read("{\"message\":\"page not found\"}"));
    assertThrows(IllegalArgumentException.class, () -> AuditJson.read("not json"));
  }
}
