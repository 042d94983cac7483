import XCTest
@testable import RedisClient
