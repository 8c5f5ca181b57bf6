/**
 * The functions a metric's SQL may call on DuckDB: an allowlist, so a function DuckDB adds later,
 * or one that reads settings, the catalog, statistics or the statement itself (stats,
 * current_query, get_block_size, pg_get_viewdef ...), is refused until someone adds it here.
 * Names are as json_serialize_sql writes them (operators too: `a || b` is the function `||`).
 */

/** The names of a whitespace-separated list (one family of functions per list). */
function words(list: string): string[] {
  return list.trim().split(/\s+/);
}

const OPERATORS = words(`
  + - * / // % ** ^ @ & | ~ << >> || ~~ !~~ ~~* !~~* ~~~ ->> ^@ @> <@ &&
`);

/** Functions the parser itself writes as main.f: list and struct literals, MAP, ROW, EXTRACT, TRIM, AT TIME ZONE, LIKE ... ESCAPE, [x FOR x IN l]. */
export const PARSER_MAIN_FUNCTIONS: ReadonlySet<string> = new Set(
  words(`
  list_value struct_pack map row date_part position substring trim ltrim rtrim timezone like_escape not_like_escape ilike_escape
  not_ilike_escape list_apply list_filter struct_extract
`),
);

/** What count(*), x = ANY (list), UNNEST and NULLIF become. */
const SYNTAX = ['count_star', 'unnest', 'nullif'];

const MATH = words(`
  abs acos acosh add asin asinh atan atan2 atanh bar bit_count cbrt ceil ceiling cos cosh cot degrees divide equi_width_bins even exp
  factorial fdiv floor fmod format_bytes formatreadabledecimalsize formatreadablesize gamma gcd greatest greatest_common_divisor hash
  isfinite isinf isnan lcm least least_common_multiple lgamma ln log log10 log2 mod multiply nextafter pi pow power radians random
  round round_even roundbankers sign signbit sin sinh sqrt subtract tan tanh trunc xor
`);

const STRING = words(`
  array_to_string ascii base64 bin bit_length char_length character_length chr concat concat_ws contains damerau_levenshtein decode
  editdist3 encode ends_with format from_base64 from_hex hamming hex instr jaccard jaro_similarity jaro_winkler_similarity lcase left
  left_grapheme len length length_grapheme levenshtein lower lpad md5 md5_number md5_number_lower md5_number_upper mismatches
  nfc_normalize octet_length ord parse_dirname parse_dirpath parse_filename parse_path prefix printf repeat replace reverse right
  right_grapheme rpad sha1 sha256 split split_part starts_with str_split str_split_regex string_split string_split_regex
  string_to_array strip_accents strlen strpos substr substring_grapheme suffix to_base to_base64 to_hex translate ucase unbin unhex
  unicode upper url_decode url_encode
`);

const REGEXP = words(`
  regexp_escape regexp_extract regexp_extract_all regexp_full_match regexp_matches regexp_replace regexp_split_to_array
`);

const DATE_TIME = words(`
  age ago century current_date current_localtime current_localtimestamp date_add date_diff date_sub date_trunc datediff datepart
  datesub datetrunc day dayname dayofmonth dayofweek dayofyear days_in_month decade epoch epoch_ms epoch_ns epoch_us era
  get_current_time get_current_timestamp hour isodow isoyear julian last_day make_date make_time make_timestamp make_timestamp_ms
  make_timestamp_ns make_timestamptz microsecond millennium millisecond minute month monthname nanosecond normalized_interval now
  quarter second strftime strptime time_bucket timezone_hour timezone_minute to_centuries to_days to_decades to_hours to_microseconds
  to_millennia to_milliseconds to_minutes to_months to_quarters to_seconds to_timestamp to_weeks to_years today transaction_timestamp
  try_strptime week weekday weekofyear year yearweek
`);

const JSON_FUNCTIONS = words(`
  array_to_json from_json from_json_strict json json_array json_array_length json_contains json_exists json_extract json_extract_path
  json_extract_path_text json_extract_string json_keys json_merge_patch json_object json_pretty json_quote json_structure
  json_transform json_transform_strict json_type json_valid json_value row_to_json to_json
`);

const LIST_STRUCT_MAP = words(`
  aggregate apply array_aggr array_aggregate array_append array_apply array_cat array_concat array_contains array_distinct
  array_extract array_filter array_grade_up array_has array_has_all array_has_any array_indexof array_intersect array_length
  array_pop_back array_pop_front array_position array_prepend array_push_back array_push_front array_reduce array_resize array_reverse
  array_reverse_sort array_select array_slice array_sort array_transform array_unique array_value array_where array_zip cardinality
  element_at filter flatten generate_series generate_subscripts grade_up range reduce list_aggr list_aggregate list_any_value
  list_append list_approx_count_distinct list_avg list_bool_and list_bool_or list_cat list_concat list_contains list_count
  list_distinct list_element list_extract list_first list_grade_up list_has list_has_all list_has_any list_histogram list_indexof
  list_intersect list_last list_max list_median list_min list_mode list_pack list_position list_prepend list_product list_reduce
  list_resize list_reverse list_reverse_sort list_select list_slice list_sort list_stddev_pop list_stddev_samp list_string_agg list_sum
  list_transform list_unique list_var_pop list_var_samp list_where list_zip map_concat map_contains map_contains_entry
  map_contains_value map_entries map_extract map_extract_value map_from_entries map_keys map_values struct_concat struct_contains
  struct_extract_at struct_has struct_indexof struct_insert struct_keys struct_position struct_update struct_values
`);

const AGGREGATE = words(`
  any_value approx_count_distinct approx_quantile approx_top_k arbitrary arg_max arg_max_null arg_max_nulls_last arg_min arg_min_null
  arg_min_nulls_last argmax argmin array_agg avg bit_and bit_or bit_xor bool_and bool_or corr count count_if countif covar_pop
  covar_samp entropy favg first fsum geomean geometric_mean group_concat histogram histogram_exact json_group_array json_group_object
  kahan_sum kurtosis kurtosis_pop last list listagg mad max max_by mean median min min_by mode product quantile quantile_cont
  quantile_disc regr_avgx regr_avgy regr_count regr_intercept regr_r2 regr_slope regr_sxx regr_sxy regr_syy reservoir_quantile sem
  skewness stddev stddev_pop stddev_samp string_agg sum sum_no_overflow sumkahan var_pop var_samp variance wavg weighted_avg
`);

const WINDOW = words(`
  row_number rank dense_rank rank_dense percent_rank cume_dist ntile lag lead first_value last_value nth_value fill
`);

/** Lower case: DuckDB's function names are case-insensitive. */
export const ALLOWED_FUNCTIONS: ReadonlySet<string> = new Set([
  ...OPERATORS,
  ...PARSER_MAIN_FUNCTIONS,
  ...SYNTAX,
  ...MATH,
  ...STRING,
  ...REGEXP,
  ...DATE_TIME,
  ...JSON_FUNCTIONS,
  ...LIST_STRUCT_MAP,
  ...AGGREGATE,
  ...WINDOW,
]);
