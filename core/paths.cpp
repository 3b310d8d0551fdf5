#include "paths.h"

namespace Coffer {

namespace {

void dropTrailingSlashes(std::string &path)
{
    while (path.size() > 1 && path.back() == '/')
        path.pop_back();
}

} // namespace

std::string lastComponent(std::string path)
{
    dropTrailingSlashes(path);
    return path == "/" ? path : path.substr(path.rfind('/') + 1);
}

std::string parentDirectory(std::string path)
{
    dropTrailingSlashes(path);
    const size_t slash = path.rfind('/');
    return slash == std::string::npos ? "." : slash == 0 ? "/" : path.substr(0, slash);
}

} // namespace Coffer
