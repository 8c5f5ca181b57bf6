/**
 * The functions a metric's SQL may call on ClickHouse: an allowlist, so a function that reads
 * dictionaries, other tables (joinGet, hasColumnInTable), models, embedded geo data or server state
 * (hostName, uptime, currentDatabase ...) is refused, and so is any function a later server adds,
 * until someone adds it here. Names as ClickHouse spells them: 18.16's, and the JSON, date and
 * window functions of later servers (docker-compose runs 24.8); aggregates may carry the
 * combinators If, Array, ForEach, Distinct, OrNull and OrDefault (countIf, sumArrayIf).
 */

/** The names of a whitespace-separated list (one family of functions per list). */
function words(list: string): string[] {
  return list.trim().split(/\s+/);
}

const OPERATORS = words(`
  plus minus multiply divide intDiv intDivOrZero modulo negate abs gcd lcm equals notEquals less greater lessOrEquals greaterOrEquals
  and or not xor in notIn like notLike if multiIf ifNull nullIf coalesce isNull isNotNull assumeNotNull toNullable tuple tupleElement
  transform CAST
`);

const MATH = words(`
  e pi exp log ln exp2 log2 exp10 log10 sqrt cbrt erf erfc lgamma tgamma sin cos tan asin acos atan pow power intExp2 intExp10 floor
  ceil ceiling round roundToExp2 roundDuration roundAge trunc truncate greatest least isFinite isInfinite isNaN rand rand64 bitAnd
  bitOr bitXor bitNot bitShiftLeft bitShiftRight bitTest bitTestAll bitTestAny bar formatReadableSize intHash32 intHash64 cityHash64
  sipHash64 farmHash64 murmurHash2_64 murmurHash3_64 halfMD5 MD5 SHA1 SHA256
`);

const STRING = words(`
  empty notEmpty length lengthUTF8 CHAR_LENGTH CHARACTER_LENGTH lower upper lcase ucase lowerUTF8 upperUTF8 reverse reverseUTF8 concat
  substring substr mid substringUTF8 appendTrailingCharIfAbsent startsWith endsWith position locate positionUTF8
  positionCaseInsensitive positionCaseInsensitiveUTF8 replace replaceOne replaceAll splitByChar splitByString alphaTokens
  arrayStringConcat hex unhex toFixedString toStringCutToZero visibleWidth UUIDNumToString UUIDStringToNum IPv4NumToString
  IPv4StringToNum IPv6NumToString IPv6StringToNum
`);

const REGEXP = ['match', 'extract', 'extractAll', 'replaceRegexpOne', 'replaceRegexpAll'];

const URL = words(`
  protocol domain domainWithoutWWW topLevelDomain firstSignificantSubdomain cutToFirstSignificantSubdomain path pathFull queryString
  fragment queryStringAndFragment extractURLParameter extractURLParameters extractURLParameterNames URLHierarchy URLPathHierarchy
  decodeURLComponent cutWWW cutQueryString cutFragment cutQueryStringAndFragment cutURLParameter
`);

const DATE_TIME = words(`
  now today yesterday toTimeZone toYear toQuarter toMonth toDayOfYear toDayOfMonth toDayOfWeek toHour toMinute toSecond toMonday
  toISOWeek toISOYear toStartOfYear toStartOfISOYear toStartOfQuarter toStartOfMonth toStartOfDay toStartOfHour toStartOfMinute
  toStartOfFiveMinute toStartOfFifteenMinutes toTime toRelativeYearNum toRelativeQuarterNum toRelativeMonthNum toRelativeWeekNum
  toRelativeDayNum toRelativeHourNum toRelativeMinuteNum toRelativeSecondNum toYYYYMM toYYYYMMDD toYYYYMMDDhhmmss addYears addMonths
  addWeeks addDays addHours addMinutes addSeconds subtractYears subtractMonths subtractWeeks subtractDays subtractHours subtractMinutes
  subtractSeconds dateDiff timeSlot timeSlots formatDateTime toUnixTimestamp parseDateTimeBestEffort parseDateTimeBestEffortOrNull
  parseDateTimeBestEffortOrZero toIntervalYear toIntervalMonth toIntervalWeek toIntervalDay toIntervalHour toIntervalMinute
  toIntervalSecond
`);

const JSON_FUNCTIONS = words(`
  visitParamHas visitParamExtractUInt visitParamExtractInt visitParamExtractFloat visitParamExtractBool visitParamExtractRaw
  visitParamExtractString
`);

const CASTS = [
  ...words(`
    toString toDate toDateOrZero toDateOrNull toDateTime toDateTimeOrZero toDateTimeOrNull toUUID toDecimal32 toDecimal64 toDecimal128
    toTypeName
  `),
  ...['Int8', 'Int16', 'Int32', 'Int64', 'UInt8', 'UInt16', 'UInt32', 'UInt64', 'Float32', 'Float64'].flatMap((t) => [
    `to${t}`,
    `to${t}OrZero`,
    `to${t}OrNull`,
  ]),
];

const ARRAY = words(`
  array range has hasAll hasAny indexOf countEqual arrayElement arrayConcat arraySlice arrayPushBack arrayPushFront arrayPopBack
  arrayPopFront arrayResize arrayReverse arraySort arrayReverseSort arrayDistinct arrayUniq arrayIntersect arrayEnumerate
  arrayEnumerateUniq arrayEnumerateDense arrayMap arrayFilter arrayExists arrayAll arrayCount arraySum arrayFirst arrayFirstIndex
  arrayCumSum arrayCumSumNonNegative arrayDifference arrayReduce arrayJoin emptyArrayToSingle replicate bitmaskToArray bitmaskToList
`);

const AGGREGATE = [
  ...words(`
    count sum sumWithOverflow sumKahan sumMap avg min max any anyLast anyHeavy argMin argMax uniq uniqCombined uniqHLL12 uniqExact
    uniqUpTo groupArray groupUniqArray groupBitAnd groupBitOr groupBitXor topK histogram retention windowFunnel sequenceMatch
    sequenceCount corr covarPop covarSamp varPop varSamp stddevPop stddevSamp BIT_AND BIT_OR BIT_XOR COVAR_POP COVAR_SAMP STDDEV_POP
    STDDEV_SAMP VAR_POP VAR_SAMP
  `),
  ...['median', 'quantile', 'quantiles'].flatMap((f) =>
    ['', 'Deterministic', 'Exact', 'ExactWeighted', 'TDigest', 'TDigestWeighted', 'Timing', 'TimingWeighted'].map((v) => f + v),
  ),
];

/** Functions of servers after 18.16 that metric authors reach for. */
const LATER_SERVERS = words(`
  ilike notILike trimBoth trimLeft trimRight concatWithSeparator splitByRegexp leftPad rightPad repeat JSONHas JSONLength JSONType
  JSONExtract JSONExtractString JSONExtractInt JSONExtractUInt JSONExtractFloat JSONExtractBool JSONExtractRaw JSONExtractKeys
  simpleJSONHas simpleJSONExtractString simpleJSONExtractInt simpleJSONExtractUInt simpleJSONExtractFloat simpleJSONExtractBool
  simpleJSONExtractRaw toStartOfWeek toStartOfTenMinutes toStartOfInterval dateTrunc date_trunc toDateTime64 toUnixTimestamp64Milli
  fromUnixTimestamp fromUnixTimestamp64Milli toLastDayOfMonth age dateAdd dateSub row_number rank dense_rank percent_rank lagInFrame
  leadInFrame first_value last_value nth_value ntile grouping countDistinct uniqTheta quantileExactLow quantileExactHigh
  quantilesExactLow quantilesExactHigh
`);

/** Row-by-row over the query's own blocks (the project's rows only). */
const BLOCK = words(`
  runningDifference runningDifferenceStartingWithFirstValue rowNumberInBlock rowNumberInAllBlocks blockSize materialize ignore identity
  throwIf
`);

const COMBINATORS = ['If', 'Array', 'ForEach', 'Distinct', 'OrNull', 'OrDefault'];

const ALLOWED = new Set([
  ...OPERATORS,
  ...MATH,
  ...STRING,
  ...REGEXP,
  ...URL,
  ...DATE_TIME,
  ...JSON_FUNCTIONS,
  ...CASTS,
  ...ARRAY,
  ...BLOCK,
  ...LATER_SERVERS,
]);
const AGGREGATES = new Set(AGGREGATE);
/** ClickHouse's case-insensitive names (count, SUM, IF ...), in lower case. */
const CASE_INSENSITIVE = new Set(
  words(`
  bit_and bit_or bit_xor cast character_length char_length covar_pop covar_samp stddev_pop stddev_samp var_pop var_samp acos asin atan
  avg ceil ceiling coalesce concat corr cos count datediff exp floor if ifnull lcase length ln locate log log10 log2 lower max mid min
  now nullif pi pow power replace retention round sin sqrt substr substring sum tan trunc truncate ucase upper windowfunnel
`),
);
const BY_LOWER_CASE = new Map([...ALLOWED, ...AGGREGATES].map((name) => [name.toLowerCase(), name]));

/** The name as ClickHouse resolves it: exact, or a case-insensitive one in its own spelling. */
function canonical(name: string): string {
  const lower = name.toLowerCase();
  return CASE_INSENSITIVE.has(lower) ? (BY_LOWER_CASE.get(lower) ?? name) : name;
}

/** An aggregate with any combinators removed from its end (sumArrayIf → sum), if that is one. */
function isAggregate(name: string): boolean {
  if (AGGREGATES.has(canonical(name))) return true;
  const combinator = COMBINATORS.find((c) => name.endsWith(c) && name.length > c.length);
  return combinator !== undefined && isAggregate(name.slice(0, -combinator.length));
}

/** Words a parenthesis may follow without being a function call: keywords, and types with parameters (CAST(x AS Nullable(String))). */
const NOT_CALLS = new Set(
  words(`
  SELECT FROM WHERE PREWHERE AND OR NOT IN AS ON USING JOIN BY HAVING DISTINCT ALL ANY EXISTS CASE WHEN THEN ELSE END BETWEEN LIKE
  ILIKE IS UNION WITH LIMIT OFFSET INTERVAL ARRAY SAMPLE ASC DESC TOTALS COLLATE SETS ROLLUP CUBE OVER PARTITION FILTER WINDOW QUALIFY
  ROWS NULLABLE TUPLE FIXEDSTRING DECIMAL DECIMAL32 DECIMAL64 DECIMAL128 DATETIME LOWCARDINALITY ENUM8 ENUM16 NESTED
`),
);

/** Whether the word before a parenthesis is a keyword or a type, not a function call. */
export const isNotACall = (word: string) => NOT_CALLS.has(word.toUpperCase());

/** Whether a metric's SQL may call `name` on ClickHouse. */
export const isAllowedClickHouseFunction = (name: string) => ALLOWED.has(canonical(name)) || isAggregate(name);
