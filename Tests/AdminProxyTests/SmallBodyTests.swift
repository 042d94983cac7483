import Testing

@testable import AdminProxy

/// An ACL document collected from a streamed object route: refused whole once it is over its limit, and nothing
/// that arrives afterwards is kept.
struct SmallBodyTests {
    @Test func aBodyUpToTheLimitIsKeptWhole() {
        var body = SmallBody(limit: 10, declaredLength: nil)
        let accepted1 = body.append(Array(repeating: 1, count: 6))
        #expect(accepted1)
        let accepted2 = body.append(Array(repeating: 2, count: 4))
        #expect(accepted2)
        #expect(body.isOverLimit == false)
        #expect(body.bytes == Array(repeating: 1, count: 6) + Array(repeating: 2, count: 4))
    }

    @Test func aChunkThatCrossesTheLimitRefusesTheBodyAndLaterChunksAreNotKept() {
        var body = SmallBody(limit: 10, declaredLength: nil)
        let accepted3 = body.append(Array(repeating: 1, count: 6))
        #expect(accepted3)
        let accepted4 = body.append(Array(repeating: 2, count: 5))
        #expect(accepted4 == false)
        #expect(body.isOverLimit)
        let accepted5 = body.append([3])
        #expect(accepted5 == false)
        #expect(body.bytes == [])
    }

    @Test func aDeclaredLengthOverTheLimitIsRefusedBeforeAnyByteIsRead() {
        let body = SmallBody(limit: 10, declaredLength: 11)
        #expect(body.isOverLimit)
        #expect(SmallBody(limit: 10, declaredLength: 10).isOverLimit == false)
    }
}
