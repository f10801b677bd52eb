// The personal part of an event, encrypted with its subject's data key (SPEC §3, §2 point 10;
// docs/ledger.md "Personal data"). An event's `personal_data` bytes in the leaf are
//
//   sealed     = version nonce ciphertext
//   version    = %x01                          ; one byte
//   nonce      = 24 random bytes
//   ciphertext = XChaCha20-Poly1305-IETF(key = the subject's data key, nonce,
//                                        additional data = ad, message = the Personal table)
//                                               ; message length + 16 bytes (the tag)
//   ad         = "vaxledger/personal/v1" %x00 event-id data-subject
//   event-id   = the event's 16-byte id;  data-subject = the event's data_subject (ASCII)
//
// so that sealed bytes moved to another event or subject do not open, and the leaf, its hash,
// the chain, the signatures and the Merkle tree are the same whether or not the key still
// exists. libsodium (crypto_aead_xchacha20poly1305_ietf_*) does the work.
//
// Thread-safety: pure functions.
#pragma once

#include <string>
#include <string_view>

#include "core/encoding.h"
#include "core/status.h"
#include "core/subjects.h"

namespace vaxledger {

inline constexpr size_t kSealedOverhead = 1 + 24 + 16;

// Seals `message` (the Personal table's bytes) for the event `event_id` (16 bytes) about
// `subject`. InvalidArgument when event_id is not 16 bytes.
Result<std::string> SealPersonal(const DataKey& key, ByteView event_id, std::string_view subject,
                                 ByteView message);

// The message `sealed` holds. DataLoss when it is not a version-1 seal or does not open with
// `key` for this event and subject (wrong key, tampered bytes, moved to another event).
Result<std::string> OpenPersonal(const DataKey& key, ByteView event_id, std::string_view subject,
                                 ByteView sealed);

}  // namespace vaxledger
