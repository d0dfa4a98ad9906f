package dev.swarmd.store;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.json.JsonMapper;
import com.fasterxml.jackson.datatype.jsr310.JavaTimeModule;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;

/**
 * The journal's hash chain: each event's link is SHA-256 over the previous link, the event's
 * persistence ID, its type and its content (with its own link left out), in Version.Index order.
 * Changing, removing or reordering an event breaks the link of that event or of the next one.
 */
public final class Links {
  /** The link before the first event. */
  public static final String GENESIS = "0".repeat(64);

  /** Sorted map keys and ISO times: the same event gives the same bytes after any round trip. */
  private static final ObjectMapper CANONICAL = JsonMapper.builder()
      .addModule(new JavaTimeModule())
      .configure(SerializationFeature.ORDER_MAP_ENTRIES_BY_KEYS, true)
      .configure(SerializationFeature.WRITE_DATES_AS_TIMESTAMPS, false)
      .build();

  private Links() {}

  /** The link of event (whose stamp's own link is ignored) after previous. */
  public static <E extends Sealable<E>> String link(String previous, String persistenceId, E event) {
    Stamp s = event.stamp();
    E unlinked = event.withStamp(new Stamp(s.index(), s.at(), s.cause(), null));
    try {
      MessageDigest sha = MessageDigest.getInstance("SHA-256");
      sha.update(previous.getBytes(StandardCharsets.US_ASCII));
      sha.update((byte) 0);
      sha.update(persistenceId.getBytes(StandardCharsets.UTF_8));
      sha.update((byte) 0);
      sha.update(event.getClass().getName().getBytes(StandardCharsets.UTF_8));
      sha.update((byte) 0);
      sha.update(CANONICAL.writeValueAsBytes(unlinked));
      return HexFormat.of().formatHex(sha.digest());
    } catch (NoSuchAlgorithmException | JsonProcessingException e) {
      throw new IllegalStateException("cannot link event " + persistenceId + " " + s.index(), e);
    }
  }
}
