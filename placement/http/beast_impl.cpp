// The one translation unit that compiles Boost.Asio, Asio SSL and Beast.
// BOOST_ASIO_SEPARATE_COMPILATION / BOOST_BEAST_SEPARATE_COMPILATION are set
// on the `placement` target (PUBLIC), so every other file that includes them
// sees declarations only and the 2-core build pays for their bodies once.
#include <boost/asio/impl/src.hpp>
#include <boost/asio/ssl/impl/src.hpp>
#include <boost/beast/src.hpp>
