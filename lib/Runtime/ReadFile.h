//===- ReadFile.h - Whole-file reads that fail without throwing -*- C++ -*-===//
//
// Private to lib/Runtime: reads a manifest or a cubin into memory. Every
// failure (no file, a directory, an I/O error, a file too large to be what it
// claims, no memory) comes back as a reason; nothing throws, unlike
// std::ifstream, whose buffer throws on a read error.
//
//===----------------------------------------------------------------------===//

#ifndef ATTN_LIB_RUNTIME_READFILE_H
#define ATTN_LIB_RUNTIME_READFILE_H

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <new>
#include <string>
#include <sys/stat.h>

namespace attn::runtime::detail {

/// Reads the whole regular file at `path` into `contents` (a std::string or
/// a std::vector<char>), refusing files larger than `maxBytes`. Returns false
/// and sets `reason` ("no such file", "not a regular file", "the file is
/// larger than ...", the system's error text) on failure.
template <typename Buffer>
bool readWholeFile(const std::string &path, size_t maxBytes, Buffer &contents,
                   std::string &reason) {
  contents.clear();
  struct stat info;
  if (::stat(path.c_str(), &info) != 0) {
    reason = errno == ENOENT ? "no such file" : std::strerror(errno);
    return false;
  }
  // Directories, FIFOs and devices: reading them blocks, fails or never
  // ends.
  if (!S_ISREG(info.st_mode)) {
    reason = "not a regular file";
    return false;
  }
  auto tooLarge = [&]() {
    reason = "the file is larger than the limit of " +
             std::to_string(maxBytes) + " bytes";
    return false;
  };
  if (static_cast<unsigned long long>(info.st_size) > maxBytes)
    return tooLarge();
  std::FILE *file = std::fopen(path.c_str(), "rb");
  if (!file) {
    reason = std::strerror(errno);
    return false;
  }
  bool ok = true;
  errno = 0;
  try {
    contents.reserve(static_cast<size_t>(info.st_size));
    char chunk[1 << 16];
    while (true) {
      size_t got = std::fread(chunk, 1, sizeof(chunk), file);
      if (contents.size() + got > maxBytes) { // The file grew meanwhile.
        ok = tooLarge();
        break;
      }
      contents.insert(contents.end(), chunk, chunk + got);
      if (got == sizeof(chunk))
        continue;
      if (std::ferror(file)) {
        int error = errno;
        reason = std::string("read error: ") +
                 (error ? std::strerror(error) : "unknown error");
        ok = false;
      }
      break;
    }
  } catch (const std::bad_alloc &) {
    reason = "out of memory reading " + std::to_string(info.st_size) + " bytes";
    ok = false;
  }
  std::fclose(file);
  if (!ok)
    contents.clear();
  return ok;
}

} // namespace attn::runtime::detail

#endif // ATTN_LIB_RUNTIME_READFILE_H
