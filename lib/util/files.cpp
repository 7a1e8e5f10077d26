#include <dataops/util/files.hpp>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <iterator>

#include <fmt/format.h>
#include <dataops/util/error.hpp>

namespace dataops::util {

std::optional<std::string> read_file(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    if (!in) {
        return std::nullopt;
    }
    return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

ReadStatus read_regular_file(const std::string& path, std::size_t limit, std::string& out,
                             bool follow_links) {
    out.clear();
    const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | (follow_links ? 0 : O_NOFOLLOW));
    if (fd < 0) {
        return errno == ENOENT || errno == ENOTDIR ? ReadStatus::absent : ReadStatus::unusable;
    }
    struct stat st {};
    ReadStatus result = ReadStatus::unusable;
    if (::fstat(fd, &st) == 0 && S_ISREG(st.st_mode) &&
        static_cast<std::size_t>(st.st_size) < limit) {
        out.resize(static_cast<std::size_t>(st.st_size));
        std::size_t done = 0;
        while (done < out.size()) {
            const ssize_t n = ::read(fd, out.data() + done, out.size() - done);
            if (n < 0 && errno == EINTR) {
                continue;
            }
            if (n <= 0) {
                break;
            }
            done += static_cast<std::size_t>(n);
        }
        // A file that grew or shrank while we read is being written.
        char extra = 0;
        if (done == out.size() && ::read(fd, &extra, 1) == 0) {
            result = ReadStatus::ok;
        }
    }
    ::close(fd);
    return result;
}

void write_atomically(const std::string& path, const std::string& content, unsigned mode) {
    std::string temp = path + ".dataops-tmp-XXXXXX";
    int fd = ::mkstemp(temp.data());
    if (fd < 0) {
        throw Error(
            fmt::format("cannot create a file beside '{}': {}", path, std::strerror(errno)));
    }
    std::size_t written = 0;
    while (written < content.size()) {
        ssize_t n = ::write(fd, content.data() + written, content.size() - written);
        if (n < 0) {
            if (errno == EINTR) {
                continue;
            }
            int saved = errno;
            ::close(fd);
            ::unlink(temp.c_str());
            throw Error(fmt::format("cannot write '{}': {}", temp, std::strerror(saved)));
        }
        written += static_cast<std::size_t>(n);
    }
    if (::fchmod(fd, mode) != 0 || ::fsync(fd) != 0 || ::close(fd) != 0) {
        int saved = errno;
        ::unlink(temp.c_str());
        throw Error(fmt::format("cannot write '{}': {}", temp, std::strerror(saved)));
    }
    if (::rename(temp.c_str(), path.c_str()) != 0) {
        int saved = errno;
        ::unlink(temp.c_str());
        throw Error(fmt::format("cannot write '{}': {}", path, std::strerror(saved)));
    }
}

}  // namespace dataops::util
